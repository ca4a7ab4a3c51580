"""
Gateways to other programs: CGI processes and WSGI input.
"""
