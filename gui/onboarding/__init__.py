"""The Onboarding panel: wrap up agents' chats and onboard them into new ones (quarterdeck.core.onboarding)."""
