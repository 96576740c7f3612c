"""The worker process: the app factory, topics, the worker class and its health."""
