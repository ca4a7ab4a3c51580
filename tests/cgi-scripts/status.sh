#!/bin/sh
printf 'Status: 404 Not Found\nContent-Type: text/plain\n\nnothing here\n'
