# The index page of a site of Perl scripts, run by /usr/bin/perl.
print "Content-Type: text/html\n\n";
print "<p>Perl index, $ENV{REQUEST_METHOD} $ENV{SCRIPT_NAME}</p>\n";
