"""RPC contracts: one client module per service topic, shared by every caller.

Each module documents, per method, whether it is a *call* (waits for the answer) or a
*cast* (fire and forget), who sends it and who serves it. The server side (a manager
class in the service's own package) implements the same method names and arguments.
The request context (and so the request ID) rides along with every message.
"""
