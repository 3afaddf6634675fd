"""The test suite: helpers/ then one folder per room of the code (see the README, "How it fits together")."""
