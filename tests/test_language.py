"""Language modelling end to end: vocabularies, (T, B) windows, the built-in tasks, training with truncated BPTT,
perplexity and generation."""

import numpy as np
import pytest

import graphc as gc
from graphc import data, nn
from graphc.errors import GraphcError, NumericalError
from graphc.train import language


def test_vocabulary_round_trip_and_unknown_tokens():
    vocabulary = data.Vocabulary.build(["abba", "cab"])
    assert vocabulary.tokens[:2] == [data.END, data.UNKNOWN] and vocabulary.tokens[2] in "ab"
    assert vocabulary.decode(vocabulary.encode("cab")) == "cab"
    assert vocabulary.decode(vocabulary.encode("z")) == data.UNKNOWN
    stream = vocabulary.stream(["ab", "c"])
    assert list(stream) == list(vocabulary.encode("ab")) + [0] + list(vocabulary.encode("c")) + [0]
    words = data.Vocabulary.build(["the cat, the dog."], "word")
    assert words.tokens[2] == "the" and words.decode(words.encode("the dog")) == "the dog"


def test_character_ids_are_each_characters_entry_or_the_unknown_marker():
    text = "aé€😀z\ud800" + data.END  # a two-byte, a three-byte and a four-byte character, one unknown, a surrogate
    vocabulary = data.Vocabulary.build(["a😀é€"], max_size=4)  # 😀 and € cut by the size
    for tokens in (vocabulary, data.Vocabulary([data.END, data.UNKNOWN])):
        expected = [tokens.index.get(character, tokens.index[data.UNKNOWN]) for character in text]
        assert tokens.encode(text).tolist() == expected and tokens.encode(text).dtype == np.int64
    assert vocabulary.encode("").shape == (0,)


def test_builtin_corpus_and_split():
    documents = data.builtin_documents()
    assert len(documents) > 50 and any("assert" in d for d in documents)
    train, held = data.split_documents(documents, 0.1, seed=1)
    assert len(held) == round(len(documents) * 0.1) and not set(train) & set(held)
    assert data.split_documents(documents, 0.1, seed=1) == (train, held)


def test_a_text_without_document_breaks_is_split_by_position(tmp_path):
    lines = [f"line {i}: the quick brown fox" for i in range(400)]
    documents = [chr(10).join(lines)]
    train, held = data.split_documents(documents, 0.2)
    assert train == [chr(10).join(lines[:320])] and held == [chr(10).join(lines[320:])]
    corpus = tmp_path / "notes.txt"
    corpus.write_text(chr(10).join(lines) + chr(10))
    dataset = data.language_dataset(str(corpus), seq_len=8, batch=4, split=0.2)
    assert len(dataset.train) > 0 and len(dataset.validation) > 0
    with pytest.raises(GraphcError, match="between 0 and 1"):
        data.split_documents(documents, 1.0)
    with pytest.raises(GraphcError, match="one line cannot be split"):
        data.split_documents(["a single line"], 0.1)


def test_windows_shift_targets_and_continue_each_lane():
    stream = np.arange(101)
    pieces = list(data.windows(stream, steps=5, batch=4))
    assert len(pieces) == data.window_count(stream, 5, 4) == 5
    (x0, y0), (x1, _) = pieces[0], pieces[1]
    assert x0.shape == (5, 4)
    np.testing.assert_array_equal(y0, x0 + 1)  # teacher forcing: the target is the next token
    np.testing.assert_array_equal(x1[0], x0[-1] + 1)  # window 2 continues each lane of window 1
    np.testing.assert_array_equal(x0[0], [0, 25, 50, 75])


def test_token_classes_follow_tokenize():
    source = "if x1 == 2:  # go\n    s = 'a'\n"
    classes = [data.TOKEN_CLASSES[c] for c in data.tasks.token_classes(source)]
    assert classes[:2] == ["keyword", "keyword"] and classes[3:5] == ["name", "name"]
    assert classes[source.index("==")] == "operator" and classes[source.index("2")] == "number"
    assert classes[source.index("#")] == "comment" and classes[source.index("'")] == "string"
    assert classes[source.index("\n")] == "newline" and classes[2] == "space"
    vocabulary, ids, labels = data.token_class_task()
    assert ids.shape == labels.shape and len(set(labels.tolist())) == len(data.TOKEN_CLASSES)


def test_snippet_task_is_balanced_and_seeded():
    vocabulary, snippets, labels = data.snippet_task(length=16, count=40, seed=2)
    assert snippets.shape == (16, 40) and labels.sum() == 20
    np.testing.assert_array_equal(data.snippet_task(length=16, count=40, seed=2)[1], snippets)


@pytest.fixture(scope="module")
def tiny():
    """A small RNN language model on a stream it can learn: 'abc' documents."""
    vocabulary = data.Vocabulary.build(["abc"])
    stream = vocabulary.stream(["abc"] * 400)
    return vocabulary, stream, nn.language_model("rnn", len(vocabulary), 8, 16)


def test_state_is_carried_between_windows(tiny):
    vocabulary, stream, model = tiny
    params = gc.init_params(model.params, seed=0)
    _, losses = language.train(model, stream, steps=3, seq_len=8, batch=2, lr=0.0, params=params)
    state = language.zero_state(model, 2)
    finals = [model.outputs[name] for name in model.state.values()]
    for expected, (tokens, targets) in zip(losses, data.windows(stream, 8, 2)):
        loss, *carried = gc.evaluate([model.loss, *finals], {"tokens": tokens, "targets": targets, **state,
                                                            **params})
        assert expected == pytest.approx(float(loss), rel=1e-5)
        state = dict(zip(model.state, carried))


def test_training_learns_and_generation_stops_at_the_end_marker(tiny):
    vocabulary, stream, model = tiny
    params, losses = language.train(model, stream, steps=150, seq_len=8, batch=4, lr=1.0, seed=0)
    assert np.mean(losses[-10:]) < 0.3 * losses[0]
    again = language.train(model, stream, steps=150, seq_len=8, batch=4, lr=1.0, seed=0)[1]
    assert again == losses  # the same seed gives the same run
    uniform = len(vocabulary)
    assert language.perplexity(model, params, stream, seq_len=8, batch=4) < 0.5 * uniform
    assert language.generate(model, params, vocabulary, "a", top_k=1) == "bc"
    sampled = language.generate(model, params, vocabulary, "ab", max_tokens=5, temperature=2.0, seed=3)
    assert len(sampled) <= 5
    with pytest.raises(GraphcError, match="temperature"):
        language.generate(model, params, vocabulary, "a", temperature=0.0)


def test_a_non_finite_loss_names_the_op(tiny):
    vocabulary, stream, model = tiny
    params = gc.init_params(model.params, seed=0)
    for name in ("rnn.l0.W", "rnn.l0.U", "output.W"):
        params[name][:] = 0.0
    params["rnn.l0.b"][:] = 5.0  # every hidden unit near 1 ...
    params["output.W"][:, 0] = 3e38  # ... so the logit of token 0 overflows float32
    with pytest.raises(NumericalError, match="matmul produced Inf from finite inputs"):
        language.train(model, stream, steps=1, seq_len=8, batch=2, lr=1.0, params=params)
    assert params["output.W"][0, 0] == np.float32(3e38)  # restored to the values before the failing step


def test_validation_perplexity_and_generation_share_one_compiled_evaluator(language_data):
    """After training with validation, perplexity and generation (batch 1, length 1) compile nothing new."""
    from graphc import optim
    from graphc.train import Trainer

    vocabulary, train, validation = language_data
    model = nn.language_model("lstm", len(vocabulary), embed=4, hidden=8)
    trainer = Trainer(model, optim.SGD(0.5), progress=False)
    trainer.fit(train, max_steps=3)
    trainer.evaluate(validation)
    (evaluator,) = model.compiled.values()
    programs = [module.run for module, _, _ in evaluator.programs.values()]
    assert len(programs) == 1 and len(programs[0].signatures) == 1
    language.perplexity(model, trainer.params, validation.stream, seq_len=3, batch=2)
    language.generate(model, trainer.params, vocabulary, "the ", max_tokens=5)
    assert list(model.compiled.values()) == [evaluator]
    assert [module.run for module, _, _ in evaluator.programs.values()] == programs
    assert len(programs[0].signatures) == 1  # validation (6 x 2), perplexity (3 x 2), generation (1 x 1)


@pytest.mark.parametrize("header", ["", "4 3\n"])  # GloVe's format, and word2vec's text format
def test_pretrained_word_vectors_fill_an_embeddings_table(tmp_path, header):
    vocabulary = data.Vocabulary.build(["Cat sat on the mat, the end"], "word")
    vectors = tmp_path / "vectors.txt"
    vectors.write_text(header + "the 0.5 0.25 -1\ncat 1 2 3\nmat -1 -2 -3\nzebra 9 9 9\n")
    table, found = data.read_word_vectors(str(vectors), vocabulary, seed=0, dtype="float64")
    assert table.shape == (len(vocabulary), 3) and found == 3
    index = vocabulary.index
    np.testing.assert_array_equal(table[index["the"]], [0.5, 0.25, -1])
    np.testing.assert_array_equal(table[index["Cat"]], [1, 2, 3])  # no "Cat" in the file: its lowercase
    np.testing.assert_array_equal(table[index["mat"]], [-1, -2, -3])
    others = [index[t] for t in (data.END, data.UNKNOWN, "sat", "on", "end")]
    assert np.all(np.isfinite(table[others])) and np.all(table[others] != 0)  # drawn, not zeros
    model = nn.language_model("lstm", len(vocabulary), embed=3, hidden=4,
                              embedding_init=gc.init.pretrained(table))
    np.testing.assert_array_equal(gc.init_params(model.params, 0)["embedding.table"], table.astype(np.float32))
    rows = len(vocabulary)
    with pytest.raises(gc.InitializerError, match=rf"shape \({rows}, 3\) for a parameter of shape \({rows}, 5\)"):
        gc.init_params(nn.language_model("lstm", len(vocabulary), embed=5, hidden=4,
                                         embedding_init=gc.init.pretrained(table)).params, 0)


def test_word_vector_files_with_mistakes_are_one_line_errors(tmp_path):
    vocabulary = data.Vocabulary.build(["a b"], "word")
    uneven, empty, words = tmp_path / "uneven.txt", tmp_path / "empty.txt", tmp_path / "words.txt"
    uneven.write_text("a 1 2 3\nb 1 2\n")
    empty.write_text("\n")
    words.write_text("a 1 x\n")
    with pytest.raises(GraphcError, match="uneven.txt:2: 2 numbers where the first vector had 3"):
        data.read_word_vectors(str(uneven), vocabulary)
    with pytest.raises(GraphcError, match="hold no vector"):
        data.read_word_vectors(str(empty), vocabulary)
    with pytest.raises(GraphcError, match="words.txt:1: the vector of 'a' is not numbers"):
        data.read_word_vectors(str(words), vocabulary)
    with pytest.raises(GraphcError, match="cannot read the word vectors"):
        data.read_word_vectors(str(tmp_path / "none.txt"), vocabulary)
