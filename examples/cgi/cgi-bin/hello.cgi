#!/bin/sh
# A CGI program in sh: its headers, an empty line, then the page.
echo "Content-Type: text/plain"
echo
echo "Hello from a CGI program in sh!"
echo "REQUEST_METHOD=$REQUEST_METHOD"
echo "QUERY_STRING=$QUERY_STRING"
echo "PATH_INFO=$PATH_INFO"
