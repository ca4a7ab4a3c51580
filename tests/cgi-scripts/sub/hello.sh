#!/bin/sh
printf 'Content-Type: text/plain\n\nHello from a subdirectory\n'
