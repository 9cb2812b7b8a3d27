"""Column names that the files of several floors share: the data floor writes them into split files, the models and
training floors read them, and the analysis floor (which may not import data) keeps them in predictions files."""

# a comparison's two completions (w2s.data.pairs): `text` is the prefix, text + completion one whole transcript
COMPLETIONS = ("completion_a", "completion_b")
