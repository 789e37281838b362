"""`flask --app app evals langid`: one answer per input line, whatever bytes come in."""

from __future__ import annotations

from assembly.language_cli import MAX_LINE_BYTES


def run(runner, data: bytes):
    return runner.invoke(args=["evals", "langid"], input=data)


def test_each_line_gets_label_and_confidence(runner):
    result = run(runner, "阮欲去菜市仔買菜。\n我們明天去公園散步吧。\n佢哋喺度等緊你。\nGuá beh khì tshī-tiûnn.\n"
                         "The market opens at six.\n".encode())
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.output.splitlines()]
    assert [label for label, _ in rows] == ["nan-Hant", "cmn", "yue", "nan-Latn", "other"]
    assert all(0.2 < float(conf) <= 1 for _, conf in rows)


def test_bad_lines_get_a_clear_answer_in_place_and_the_rest_are_judged(runner):
    data = (b"\n"  # empty
            + b"\xff\xfe\x00garbage\x80\n"  # not UTF-8
            + b"abc\x00def\n"  # valid UTF-8 but binary (NUL)
            + "。，！？ 123\n".encode()  # nothing to judge
            + "伊毋知影這件代誌。".encode() * (MAX_LINE_BYTES // 27 + 10) + b"\n"  # over 1 MiB
            + "你食飽未？\r\n".encode()  # CRLF still judged
            + b"   \n")
    result = run(runner, data)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 7, lines
    assert lines[0] == "error\tempty line"
    assert lines[1].startswith("error\tnot UTF-8 (invalid byte at offset 0)")
    assert lines[2] == "error\tbinary data (NUL byte), not text"
    assert lines[3].startswith("error\tno letters")
    assert lines[4] == f"error\tline longer than {MAX_LINE_BYTES} bytes"
    assert lines[5].split("\t")[0] == "nan-Hant"
    assert lines[6] == "error\tempty line"
    assert "6 line(s) could not be judged" in result.stderr


def test_long_line_under_the_limit_and_no_trailing_newline(runner):
    text = "我覺得政府應該多蓋一些社會住宅，讓年輕人買得起房子。" * 2000  # ~150 kB: judged on its start
    result = run(runner, text.encode())
    assert result.exit_code == 0
    assert result.stdout.split("\t")[0] == "cmn"


def test_empty_input_prints_nothing(runner):
    result = run(runner, b"")
    assert result.exit_code == 0 and result.stdout == ""


def test_help_says_what_it_does(runner):
    result = runner.invoke(args=["evals", "langid", "--help"])
    assert result.exit_code == 0 and "nan-Hant" in result.output and "error" in result.output


def test_other_encodings_name_the_offending_byte_and_the_next_line_is_still_judged(runner):
    data = "café au lait\n".encode("latin-1") + "你食飽未？\n".encode() + "阮欲去菜市仔買菜。\n".encode("utf-16")
    result = run(runner, data)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "error\tnot UTF-8 (invalid byte at offset 3)"  # é in Latin-1 is the lone byte 0xe9
    assert lines[1].split("\t")[0] == "nan-Hant"
    assert len(lines) >= 3 and all(line.startswith("error\t") for line in lines[2:])  # UTF-16: never a guess


def test_a_megabyte_of_binary_data_gets_a_clear_error_on_every_line(runner):
    data = bytes(range(256)) * 5000  # 1.28 MB of every byte value, 0x0a included: 5,000 "lines" with NUL or bad UTF-8
    result = run(runner, data)
    assert result.exit_code == 1 and result.stdout.startswith("error\t")
    assert all(line.startswith("error\t") for line in result.stdout.splitlines())
