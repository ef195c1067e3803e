"""Approvals: admin-defined rules and chains of approvers for the records modules declare approvable."""
