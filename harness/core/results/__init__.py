"""The typed results: a finding, and everything known of one platform (report.json's
entry, what a worker hands the controller).
"""
