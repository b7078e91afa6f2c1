"""The compression verbs (`python -m compression VERB`): each module holds what one verb does."""
