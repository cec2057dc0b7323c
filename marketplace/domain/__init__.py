"""The domain: models with their rules, errors, codes and money. No Flask, no HTTP, no gateway."""
