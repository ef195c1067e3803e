"""A fixture plugin with an approvable record (an expense claim), for the tests of approvals."""
