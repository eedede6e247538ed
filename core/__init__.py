"""The shared ground below every app: rules that need no Django app (domain errors, money, input
rules, time zones). It imports none of the project's apps (see .importlinter)."""
