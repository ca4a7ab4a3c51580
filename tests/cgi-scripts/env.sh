#!/bin/sh
# Answer with the environment this CGI program got, one variable a line.
printf 'Content-Type: text/plain\n\n'
env
