"""Tests of the code's shape rather than its behaviour: which room may import which."""
