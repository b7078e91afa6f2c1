"""The benchmarks' verbs (`python -m benchmarks [VERB]`): each module holds what one verb does."""
