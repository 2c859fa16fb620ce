from bot.figures import figures, normalised


def test_fees_durations_and_phone_numbers_are_found() -> None:
    text = (
        "Lệ phí 8.000 đồng/bản, hoặc VND 8,000; trả trong 03 ngày làm việc, nộp sau 15 giờ thì"
        " hôm sau; gọi (0207) 3.822.831 hoặc 0912 345 678; hạn ba tháng; within 5 working days."
    )
    assert figures(text) == [
        "8.000 đồng",
        "VND 8,000",
        "03 ngày",
        "15 giờ",
        "(0207) 3.822.831",
        "0912 345 678",
        "ba tháng",
        "5 working days",
    ]


def test_dates_decrees_codes_and_ages_are_not_figures() -> None:
    text = (
        "Từ ngày 01/7/2025 theo Nghị định 123/2015/NĐ-CP, mã thủ tục 1.001193, người đủ 14 tuổi;"
        " chúc Anh/chị một ngày tốt lành."
    )
    assert figures(text) == []


def test_a_figure_compares_across_languages_but_not_across_units() -> None:
    assert normalised("8.000 đồng") == normalised("VND 8,000")
    assert normalised("05 ngày") == normalised("5 days")
    assert normalised("15 giờ") != normalised("15 ngày")
