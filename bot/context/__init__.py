"""Context on every posted alert ("what changed?") (see ``bot.context.job``)."""
