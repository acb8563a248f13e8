"""Slack: Block Kit rendering, the Web API poster, the Bolt app and its listeners.

Kept import-free so ``import bot.slack.render`` does not pull in slack_sdk or Bolt.
"""
