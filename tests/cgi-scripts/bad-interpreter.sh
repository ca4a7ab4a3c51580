#!/nonexistent/interpreter
# Its interpreter does not exist: the exec fails.
echo never
