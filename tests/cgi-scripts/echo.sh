#!/bin/sh
# Answer the input as it is read, until it ends: output flows while input
# is still arriving.
printf 'Content-Type: application/octet-stream\n\n'
exec cat
