"""Every state change: one transaction, one audit/log row, then the result.

The CLI, the bot, the console and the scheduler call these and nothing else writes.
"""
