#!/bin/sh
# A header, but never the empty line that ends the head.
printf 'Content-Type: text/plain\n'
