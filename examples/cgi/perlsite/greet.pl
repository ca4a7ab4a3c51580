# A Perl CGI program: greets the name given in the query string.
my $name = "stranger";
if (($ENV{QUERY_STRING} // "") =~ /(?:^|&)name=([A-Za-z0-9]+)/) {
    $name = $1;
}
print "Content-Type: text/plain\n\n";
print "Hello, $name, from Perl!\n";
