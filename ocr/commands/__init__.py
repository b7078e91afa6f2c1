"""The OCR's verbs (`python -m ocr VERB`): each module holds what one verb does, over the library."""
