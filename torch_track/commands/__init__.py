"""The torch_track tasks (`python -m torch_track TASK`): each module holds what one or more tasks do."""
