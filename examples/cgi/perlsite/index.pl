# Run by /usr/bin/perl (see perl.rpy), so it needs neither a #! line nor the
# execute permission.
print "Content-Type: text/html\n\n";
print "<html><body><h1>Hello from Perl</h1>";
print "<p><a href=\"greet.pl?name=World\">greet.pl?name=World</a></p>";
print "</body></html>\n";
