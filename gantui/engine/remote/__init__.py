"""Runs on other machines, over SSH: places (`HOST:PATH`), the agent on the far side, and the client here.

`place` parses where runs are; `agent` is `gantui agent`, serving run files on stdin/stdout; `protocol` is
the line protocol they speak; `ssh` runs the system's OpenSSH client; `mirror` keeps a local copy of what
the agent sent, so that the same engine readers (tails, follower) read a remote run as a local one.
"""
