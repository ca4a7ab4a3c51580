"""
The proxy: relaying requests to backends over pooled HTTP/1.1 connections
(see L{twisted_web_re.proxy}).
"""
