""""What changed?": context on every posted alert (see ``bot.context.job``)."""
