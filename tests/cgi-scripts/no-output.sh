#!/bin/sh
# Exit without a response head.
exit 0
