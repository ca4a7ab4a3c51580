# Run by /usr/bin/perl: the method, query string and extra path it got.
print "Content-Type: text/plain\n\n";
print "Hello from Perl\n";
print "QUERY_STRING=$ENV{QUERY_STRING}\n";
print "PATH_INFO=" . ($ENV{PATH_INFO} // "") . "\n";
print "ARGV=@ARGV\n";
