"""The phrases that say which aspect of a procedure a message asks about (`facets`).

Written naturally (with diacritics, or in English) and normalised with `bot.text.tokens` like
messages, so "mất bao lâu", "mat bao lau" and "mất bao lau" are one phrase. Matching takes the
longest phrase first: a longer phrase of one facet stops a shorter one of another from firing
("hết bao nhiêu ngày" is time, though "hết bao nhiêu" is fee). `BLOCKERS` are phrases that
name no facet but hold a facet's words ("làm hồ sơ" is not "làm hộ", "tiền án" is no fee).

The first phrases of each facet are the original list; the rest (2026-12-07) were written by a
session that saw no evaluation set, with the phrases it rejected as ambiguous and why in the
comments: tests/data/eval_facts.md and the README give what they changed.
"""

from __future__ import annotations

PHRASES: dict[str, tuple[str, ...]] = {
    # Rejected for fee:
    #   "đắt", "đắt không", "có đắt không": fold to "dat" = "đất" (land): "nhà đất không có sổ".
    #   "mấy đồng": "mấy đồng nghiệp"; only kept after tốn/mất/hết.
    #   "bao nhiêu k" (k = thousand): "k" is teencode for "không" -> "bao nhieu khong".
    #   "nộp bao nhiêu": "nộp bao nhiêu bộ hồ sơ" (documents).
    #   "miễn", "được miễn", "miễn giảm": "miễn giảm thời hạn chấp hành án", "miễn nhiệm";
    #       like "miễn phí" in "trợ giúp pháp lý miễn phí" (a facet word inside a topic's own name).
    #   "mất gì": "mất gì" also "lost what". "tài khoản" (bank account vs VNeID account).
    #   "money", "cheap", "rate(s)", "damage(s)" (damages = compensation), "urgent fee".
    #   "tiền án"/"tiền sự" are consumed by `BLOCKERS` below.
    "fee": (
        "lệ phí",
        "phí",
        "bao nhiêu tiền",
        "mất tiền",
        "tốn tiền",
        "tốn kém",
        "chi phí",
        "miễn phí",
        "nộp tiền",
        "tính tiền",
        "giá",
        "hết bao nhiêu",
        "mấy tiền",
        "nhiêu tiền",
        "tiền",
        "fee",
        "fees",
        "cost",
        "costs",
        "how much",
        "price",
        "charge",
        "pay",
        "free",
        # Vietnamese: how much it costs, colloquial / southern
        "tốn bao nhiêu",
        "mất bao nhiêu",
        "đóng bao nhiêu",
        "phải đóng bao nhiêu",
        "trả bao nhiêu",
        "phải trả bao nhiêu",
        "thu bao nhiêu",
        "hết nhiêu",
        "tốn nhiêu",
        "mất nhiêu",
        "hết mấy đồng",
        "tốn mấy đồng",
        "mất mấy đồng",
        "bao nhiêu đồng",
        "mấy nghìn",
        "mấy chục nghìn",
        "mấy trăm nghìn",
        "bao nhiêu nghìn",
        "bao nhiêu một bản",
        "bao nhiêu 1 bản",
        "một bản bao nhiêu",
        "1 bản bao nhiêu",
        "mỗi bản bao nhiêu",
        "bao nhiêu một trang",
        "có tốn gì",
        "tốn gì",
        "thanh toán",
        "chuyển khoản",
        "biên lai",
        "mức thu",
        "thu phí",
        "đóng tiền",
        # "làm hồ sơ ..." as a whole: the blocker "làm hồ sơ" and then the rest would read
        # these otherwise (the rest alone is no phrase, or a longer one of another aspect)
        "làm hồ sơ hết bao nhiêu",
        "làm hồ sơ mất bao nhiêu",
        # English
        "how much does it cost",
        "how much is it",
        "how much money",
        "charges",
        "charged",
        "paying",
        "payment",
        "payments",
        "paid",
        "prices",
        "pricing",
        "costing",
        "expensive",
        "set me back",
        "bank transfer",
        "refund",
        "vnd",
        "dollars",
        "bucks",
        "no charge",
        "free of charge",
    ),
    # Rejected for time:
    #   "lâu không" alone: "chồng bỏ đi đã lâu không liên lạc" (divorce facts); kept "có lâu không".
    #   "có ngay": folds like "có ngày" ("có ngày sinh"). "làm ngay": "làm ngày thứ bảy".
    #   "gấp" forms "cần gấp", "có gấp được không": fold to "gặp" ("cần gặp cán bộ").
    #   "có kết quả" alone: "có kết quả xét nghiệm ADN"; kept "có kết quả chưa".
    #   "trả kết quả": "trả kết quả ở đâu" is a where question.
    #   "hết hạn": "CCCD hết hạn" is about a document's validity, not the procedure's time.
    #   "mấy năm": "kết hôn mấy năm". "thời điểm": legal-text filler. "làm luôn": "also do".
    #   "nhiêu ngày" alone = "nhiều ngày" (many days). "urgent", "asap", "quick" alone,
    #   "ready" alone, "today", "express" (express post = online), "valid for", "queue".
    #   "thứ bảy", "thứ 7", "chủ nhật", "cuối tuần", "giờ hành chính": office days are not
    #   processing time for sure, and "sinh ngày chủ nhật" is a fact; "next day" ("the next day
    #   my father died"), "timeline", "by what date" (rare, "date of birth" questions).
    "time": (
        "bao lâu",
        "mấy ngày",
        "bao nhiêu ngày",
        "thời gian",
        "thời hạn",
        "khi nào",
        "bao giờ",
        "lấy ngay",
        "trong ngày",
        "mấy hôm",
        "mấy tuần",
        "trong vòng",
        "hạn chót",
        "quá hạn",
        "kịp không",
        "nhanh không",
        "ngày làm việc",
        "hẹn trả",
        "how long",
        "how many days",
        "deadline",
        "when",
        "time limit",
        "processing time",
        # Vietnamese
        "lấy luôn",
        "nhận luôn",
        "lấy liền",
        "có liền",
        "làm liền",
        "nhận ngay",
        "trả ngay",
        "có ngay không",
        "chờ lâu",
        "đợi lâu",
        "có lâu không",
        "có kết quả chưa",
        "lúc nào",
        "hôm nào",
        "ngày nào",
        "mấy giờ",
        "giờ làm việc",
        "mấy bữa",
        "mấy tháng",
        "bao nhiêu tháng",
        "bao nhiêu tuần",
        "bao nhiêu hôm",
        "bao nhiêu lâu",
        "làm nhanh",
        "lấy nhanh",
        "nhanh nhất",
        "nhanh hơn",
        "làm gấp",
        "lấy gấp",
        "cấp tốc",
        "hỏa tốc",
        "sớm nhất",
        "chậm nhất",
        "muộn nhất",
        "hạn nộp",
        "hạn cuối",
        "trễ hạn",
        "rút ngắn",
        # overrides of fee phrases "hết/mất/tốn bao nhiêu", "hết/mất nhiêu"
        "hết bao nhiêu ngày",
        "hết bao nhiêu thời gian",
        "mất bao nhiêu ngày",
        "mất bao nhiêu lâu",
        "mất bao nhiêu thời gian",
        "mất bao nhiêu tuần",
        "mất bao nhiêu tháng",
        "mất bao nhiêu hôm",
        "tốn bao nhiêu ngày",
        "tốn bao nhiêu thời gian",
        "hết nhiêu ngày",
        "mất nhiêu ngày",
        # overrides of who "có được không"
        "lấy luôn có được không",
        "lấy ngay có được không",
        "trong ngày có được không",
        # English
        "how many day",
        "how many weeks",
        "how many months",
        "how many hours",
        "how much day",
        "how much days",
        "how much time",
        "how much longer",
        "working days",
        "business days",
        "how quick",
        "how quickly",
        "how fast",
        "how soon",
        "same day",
        "on the spot",
        "turnaround",
        "processing times",
        "waiting time",
        "wait time",
        "have to wait",
        "take long",
        "takes long",
        "timeframe",
        "time frame",
        "expedite",
        "fast track",
        "what time",
        "opening hours",
        "office hours",
    ),
    # Rejected for documents:
    #   "cần ảnh", "ảnh thẻ": "ảnh" folds to "anh" ("cần anh chị hướng dẫn"); kept "hình thẻ",
    #       "ảnh 3x4"/"ảnh 4x6" where the size disambiguates.
    #   "bản sao", "bản chính", "bản dịch": inside procedure names (chứng thực bản sao từ
    #       bản chính).
    #   "làm hồ sơ": "làm hồ sơ ở đâu" (where). "bộ hồ sơ": "nộp bộ hồ sơ ở đâu".
    #   "kèm theo" alone ("kèm theo con"); kept "nộp kèm", "gửi kèm".
    #   "có cần công chứng": công chứng is itself a procedure. "mất giấy": cấp lại procedure.
    #   English "form" alone ("in the form of"), "original" ("original name"), "provide"
    #   ("provide the address"), "need to submit" ("... in person" = online), "require(s)"
    #   ("does it require me to go"), "fill in/out" ("fill out online"), "evidence" alone,
    #   "certified copy" (procedure name), "translation" (procedure name), "what else",
    #   "mấy bản": folds like "mấy bạn" ("mấy bạn ơi cho hỏi"); "cần bản": like "cần bạn".
    #   "photos" ("photos of the wedding"), "đơn từ" (= the petition itself, "đơn từ ly hôn").
    "documents": (
        "giấy tờ",
        "giấy tờ gì",
        "cần gì",
        "cần những gì",
        "những gì",
        "gồm những gì",
        "hồ sơ gồm",
        "chuẩn bị",
        "mang theo",
        "cần mang",
        "bản gốc",
        "tờ khai",
        "thành phần hồ sơ",
        "cần giấy",
        "hồ sơ cần",
        "documents",
        "document",
        "papers",
        "requirements",
        "what do i need",
        "bring",
        "required",
        # Vietnamese
        "mang gì",
        "đem gì",
        "đem theo",
        "cầm gì",
        "cầm theo",
        "phải mang",
        "phải đem",
        "cần đem",
        "giấy gì",
        "giấy nào",
        "loại giấy",
        "những giấy",
        "hồ sơ gì",
        "hồ sơ như thế nào",
        "hồ sơ thế nào",
        "hồ sơ như nào",
        "hồ sơ ra sao",
        "hồ sơ bao gồm",
        "bao gồm gì",
        "cần có gì",
        "phải có giấy",
        "phải nộp gì",
        "nộp gì",
        "nộp kèm",
        "gửi kèm",
        "xuất trình",
        "cần photo",
        "phải photo",
        "mẫu đơn",
        "thay bằng gì",
        "thay bằng giấy",
        "thay thế bằng",
        "thiếu giấy",
        "thiếu hồ sơ",
        "bổ sung giấy",
        "bổ sung hồ sơ",
        "chứng minh bằng",
        "những thứ gì",
        "cần những thứ",
        "bao nhiêu bản",
        "mấy bản sao",
        "mấy bản photo",
        "mấy bộ",
        "bao nhiêu bộ",
        "hình thẻ",
        "ảnh 3x4",
        "ảnh 4x6",
        # "làm hồ sơ ..." as a whole: the blocker "làm hồ sơ" and then the rest would read
        # these otherwise (the rest alone is no phrase, or a longer one of another aspect)
        "làm hồ sơ gồm",
        # English
        "paperwork",
        "paper work",
        "what paper",
        "what papers",
        "docs",
        "forms",
        "application form",
        "what form",
        "which form",
        "what do we need",
        "what do you need",
        "what would i need",
        "what i need",
        "what we need",
        "what is needed",
        "what's needed",
        "bringing",
        "take with me",
        "what to prepare",
        "prepare",
        "checklist",
        "how many copies",
        "copies",
        "photocopy",
        "passport photo",
        "originals",
        "proof of",
        "what proof",
        "what evidence",
        "requirement",
        "what to submit",
        "need to provide",
        # 2026-12-08: 26 more, written by a session that saw no set (its rejects: the end
        # of this file)
        "giấy tờ nào",
        "cần những giấy",
        "những giấy tờ gì",
        "cần chuẩn bị",
        "chuẩn bị gì",
        "chuẩn bị những gì",
        "mang theo gì",
        "mang theo những",
        "mang những gì",
        "có cần giấy",
        "không có giấy",
        "bản chính hay",
        "bản gốc hay",
        "hay bản sao",
        "có cần công chứng",
        "có cần photo",
        "có cần dịch",
        "có cần hợp pháp hóa",
        "mẫu tờ khai",
        "ảnh thẻ",
        "mấy tấm ảnh",
        "what documents",
        "which documents",
        "documents required",
        "what to bring",
        "what do i need to bring",
    ),
    # Rejected for where:
    #   "đến đâu"/"tới đâu": "hồ sơ đến đâu rồi" (progress). "làm đâu": folds to "làm dâu".
    #   "gần đây": = "recently". "gần nhất"/"ở gần": situation, not a question.
    #   "nơi cư trú", "nơi thường trú", "nơi tạm trú", "nơi cấp": fields of documents/conditions.
    #   "tỉnh khác", "khác tỉnh", "nơi khác": describe the case ("kết hôn khác tỉnh").
    #   "phải lên": eats "lên" of "phải lên mạng" (online). "phải ra": "phải ra sao".
    #   "về tận": "gửi về tận nhà" (online). "làm tại"/"nộp tại": "làm tại nhà" (online).
    #   "có phải đến/lên": ambiguous between where (destination follows) and online.
    #   "lãnh sự" alone: procedure names (hợp pháp hóa lãnh sự); kept "lãnh sự quán".
    #   English "consular" (procedure name), "go to", "nearest", "lodge", "from abroad" alone
    #   ("my wife is from abroad"), "send it to", "located" ("my house is located in"),
    #   "sở nào": folds like "số nào"/"sổ nào" ("ghi số nào").
    #   "hỏi ai" ("không biết hỏi ai", venting), "chỉ đường", "đường nào", "trái tuyến" (rare).
    "where": (
        "ở đâu",
        "nơi nào",
        "chỗ nào",
        "ra đâu",
        "tại đâu",
        "cơ quan nào",
        "xã nào",
        "địa chỉ",
        "nộp ở",
        "làm ở",
        "chỗ nào",
        "lên sở",
        "ra xã",
        "where",
        "which office",
        "address",
        # Vietnamese
        "lên đâu",
        "đi đâu",
        "về đâu",
        "vào đâu",
        "vô đâu",
        "nộp đâu",
        "xin đâu",
        "ở mô",
        "chỗ mô",
        "đi mô",
        "cấp nào",
        "thẩm quyền",
        "bộ phận nào",
        "phòng nào",
        "huyện nào",
        "tỉnh nào",
        "phường nào",
        "quận nào",
        "ủy ban nào",
        "tòa án nào",
        "đơn vị nào",
        "văn phòng nào",
        "bộ phận một cửa",
        "trung tâm hành chính công",
        "trung tâm phục vụ hành chính công",
        "về quê",
        "lên huyện",
        "lên tỉnh",
        "ra phường",
        "về xã",
        "ra ủy ban",
        "lên ủy ban",
        "ra tận",
        "lên tận",
        "xã hay huyện",
        "xã hay tỉnh",
        "huyện hay tỉnh",
        "ở xã hay",
        "đăng ký ở",
        "đăng ký tại",
        "lấy ở",
        "nhận ở",
        "lấy tại",
        "nhận tại",
        "xin ở",
        "cấp ở",
        "nơi nộp",
        "nơi nhận",
        "nơi giải quyết",
        "nơi tiếp nhận",
        "gửi đơn cho ai",
        "nộp đơn cho ai",
        "nộp hồ sơ cho ai",
        "nộp cho ai",
        "gửi cho ai",
        "gặp ai",
        "liên hệ ai",
        "liên hệ với ai",
        "địa điểm",
        "trụ sở",
        "đại sứ quán",
        "lãnh sự quán",
        "cơ quan đại diện",
        # "làm hồ sơ ..." as a whole: the blocker "làm hồ sơ" and then the rest would read
        # these otherwise (the rest alone is no phrase, or a longer one of another aspect)
        "làm hồ sơ ở",
        "làm hồ sơ tại",
        # English
        "which department",
        "what department",
        "what office",
        "which agency",
        "what agency",
        "which authority",
        "which ward",
        "which commune",
        "which district",
        "which province",
        "which embassy",
        "embassy",
        "consulate",
        "location",
        "whereabouts",
        "do i have to go",
        "go back to vietnam",
        "return to vietnam",
        "apply from abroad",
        "apply from overseas",
        "do it from abroad",
        "who do i contact",
        "who should i contact",
        "who to contact",
        # 2026-12-08: 25 more, written by a session that saw no set (its rejects: the end
        # of this file)
        "nên đi đâu",
        "phải đi đâu",
        "đi đâu để",
        "đi đâu làm",
        "ubnd nào",
        "quầy nào",
        "tầng mấy",
        "nộp chỗ nào",
        "làm chỗ nào",
        "lên chỗ nào",
        "tới chỗ nào",
        "làm ở quê",
        "nộp ở quê",
        "về quê làm",
        "làm ở tỉnh khác",
        "nộp ở tỉnh khác",
        "làm ở nơi khác",
        "hay nơi tạm trú",
        "hay nơi thường trú",
        "thường trú hay tạm trú",
        "tạm trú hay thường trú",
        "làm ở đại sứ quán",
        "nộp tại đại sứ quán",
        "địa chỉ của sở",
        "phường hay quận",
        # 2026-12-08, the kinds of where-questions both lists missed on the tuning sets: a place
        # offered as a choice ("ở xã được không", "hay phải lên"), taking a paper somewhere
        # ("mang đến đâu"; "đến đâu" alone asks a dossier's progress), and asking whether it is
        # this office ("is that you guys", "who handles").
        "ở xã được không",
        "ở phường được không",
        "tại xã được không",
        "tại phường được không",
        "ở xã có được không",
        "ở phường có được không",
        "ở xã có làm",
        "ở phường có làm",
        "ở xã làm được không",
        "ở phường làm được không",
        "gửi đến đâu",
        "mang đến đâu",
        "nộp đến đâu",
        "đem đến đâu",
        "gửi tới đâu",
        "mang tới đâu",
        "nộp tới đâu",
        "hay phải lên",
        "hay phải về",
        "hay phải ra",
        "hay phải đến",
        "hay phải tới",
        "is that you",
        "you guys do",
        "do you guys",
        "through you",
        "your department",
        "who handles",
        "who issues",
        "who does it now",
        "who deals with",
    ),
    # Rejected for online:
    #   "ký số": folds like "ký sổ" ("ký sổ hộ tịch"); kept "chữ ký số".
    #   "điện tử" alone: "chứng thực bản sao điện tử" is a procedure name.
    #   "điện thoại" alone / "số điện thoại": contact details. "zalo" alone: "nhắn zalo cho em".
    #   "tài khoản" alone: bank account (fee). "ở nhà" alone: "tôi ở nhà chồng".
    #   "không phải ra"/"không cần ra": "không phải ra tòa" (court appearance, not channel).
    #   "có cần đến": destination often follows ("có cần đến xã không" = where).
    #   English "account", "express", "phone" alone ("my phone number"), "mail" alone,
    #   "từ xa": folds like "từ xã" ("từ xã lên huyện"). "app" alone: collapses to "ap" =
    #       southern "ấp" (hamlet) in addresses; kept "qua app", "trên app", "bằng app".
    #   "post it" ("post it on Facebook"), "mail it" (rare).
    "online": (
        "trực tuyến",
        "online",
        "qua mạng",
        "dịch vụ công",
        "vneid",
        "trên mạng",
        "internet",
        "website",
        "cổng dịch vụ công",
        "không cần đến",
        "tại nhà",
        # Vietnamese
        "qua điện thoại",
        "bằng điện thoại",
        "trên điện thoại",
        "qua app",
        "trên app",
        "bằng app",
        "ứng dụng",
        "qua zalo",
        "qua email",
        "qua mail",
        "gửi mail",
        "email",
        "bưu điện",
        "bưu chính",
        "chuyển phát",
        "gửi về nhà",
        "trả về nhà",
        "gửi về tận nhà",
        "ship về",
        "không cần đi",
        "không phải đi",
        "khỏi phải đi",
        "không cần lên",
        "không phải lên",
        "không phải đến",
        "không cần tới",
        "không phải tới",
        "định danh điện tử",
        "tài khoản định danh",
        "chữ ký số",
        "hồ sơ điện tử",
        "bản điện tử",
        "scan",
        "đăng nhập",
        "mật khẩu",
        "otp",
        "web",
        "trang web",
        "cổng thông tin",
        "onl",
        "ngồi nhà",
        "máy tính",
        "lên mạng",
        "trực tiếp đến",
        "đến trực tiếp",
        "phải trực tiếp",
        "đi trực tiếp",
        # overrides of where "làm ở"/"nộp ở" and new "đăng ký ở/tại", "nhận/lấy ở/tại"
        "làm tại nhà",
        "nộp tại nhà",
        "làm ở nhà",
        "nộp ở nhà",
        "đăng ký tại nhà",
        "đăng ký ở nhà",
        "nhận tại nhà",
        "nhận ở nhà",
        # overrides of who "có được không" and of fee "giá" (the "gia" of "quốc gia")
        "online có được không",
        "qua mạng có được không",
        "trực tuyến có được không",
        "qua bưu điện có được không",
        "dịch vụ công quốc gia",
        "cổng dịch vụ công quốc gia",
        # "làm hồ sơ ..." as a whole: the blocker "làm hồ sơ" and then the rest would read
        # these otherwise (the rest alone is no phrase, or a longer one of another aspect)
        "làm hồ sơ online",
        "làm hồ sơ trực tuyến",
        "làm hồ sơ qua mạng",
        # English
        "by post",
        "by mail",
        "postal",
        "remotely",
        "from home",
        "do it from home",
        "without going",
        "without visiting",
        "in person",
        "go in person",
        "come in person",
        "have to go in person",
        "do i have to go in person",
        "electronically",
        "electronic",
        "e-mail",
        "digital",
        "scanned",
        "upload",
        "log in",
        "login",
        "portal",
        "e-service",
        "on my phone",
        "by phone",
        "over the phone",
        "via zalo",
    ),
    # Rejected for who:
    #   "nhờ anh", "nhờ chị", "nhờ em", "nhờ ad": "nhờ anh chị tư vấn giúp" is politeness.
    #   "người thân", "người nhà": "người thân qua đời" (death registration facts).
    #   "có mặt": folds like "có mất" ("có mất tiền không" would turn into who + fee);
    #       kept "phải có mặt", "cần có mặt".
    #   "đại diện" alone: "cơ quan đại diện" (where). "đứng tên" alone: land titles.
    #   "ai ký": the signing official is the authority (where). "tự làm": "tự làm online".
    #   "nộp hộ", "lấy hộ", "nhận hộ": fold like "nộp/lấy/nhận hồ" of "... hồ sơ" (the existing
    #       "làm hộ" has this problem with "làm hồ sơ"; see overrides in the other facets).
    #   "ai đi", "ai làm": Facebook-group style "ai đi làm rồi cho em hỏi kinh nghiệm",
    #       "ai làm ơn chỉ giúp" (polite "please").
    #   "on my/his/her behalf": redundant, the single token "behalf" already matches them.
    #   "có được làm": "có được làm online không" (online). "cả 2"/"cả hai": "cả 2 bản".
    #   "được không"/"làm được không": too broad ("nộp online được không").
    #   English "who" alone (relative pronoun), "allowed" alone ("is it allowed to pay online"),
    #   "for me", "send my" ("send my documents by post"), "both parents" ("both parents' names"),
    #   "who is responsible" (authority = where), "single parent".
    "who": (
        "ủy quyền",
        "nhờ người",
        "làm thay",
        "làm hộ",
        "người khác",
        "ai được",
        "ai có thể",
        "ai phải",
        "đối tượng",
        "điều kiện",
        "có được không",
        "on behalf",
        "authorize",
        "authorise",
        "who can",
        "eligible",
        "thay được",
        # Vietnamese: proxy
        "đi thay",
        "đứng tên thay",
        "ký thay",
        "nộp thay",
        "lấy thay",
        "nhận thay",
        "đi hộ",
        "làm giùm",
        "làm dùm",
        "nộp giùm",
        "nộp dùm",
        "lấy giùm",
        "lấy dùm",
        "đi giùm",
        "nhờ ai",
        "nhờ vợ",
        "nhờ chồng",
        "nhờ bố",
        "nhờ mẹ",
        "nhờ con",
        "thay mặt",
        "người đại diện",
        "đại diện cho",
        # Vietnamese: who must / may, eligibility
        "thuộc diện",
        "diện nào",
        "những ai",
        "ai là người",
        "ai đứng tên",
        "đứng ra",
        "ai nộp",
        "ai khai",
        "ai đăng ký",
        "người đi khai",
        "người đi đăng ký",
        "được phép",
        "có quyền",
        "được quyền",
        "có được đăng ký",
        "có được cấp",
        "có được xin",
        "trường hợp nào được",
        "đủ tuổi",
        "bao nhiêu tuổi",
        "mấy tuổi",
        "cả hai vợ chồng",
        "cả 2 vợ chồng",
        "cả hai người",
        "cả 2 người",
        "phải có mặt",
        "cần có mặt",
        "một mình",
        # English
        "who qualifies",
        "qualify",
        "qualifies",
        "eligibility",
        "entitled",
        "criteria",
        "conditions",
        "someone else",
        "somebody else",
        "send someone",
        "behalf",
        "proxy",
        "power of attorney",
        "authorization",
        "authorisation",
        "authorized",
        "authorised",
        "who needs to",
        "who has to",
        "who must",
        "who should",
        "who is allowed",
        "who may",
        "am i allowed",
        "are we allowed",
        "can my wife",
        "can my husband",
        "can my mum",
        "can my mother",
        "can my dad",
        "can my father",
        "can a relative",
        "can a family member",
        "can a foreigner",
        "can foreigners",
        "in my place",
        "instead of me",
        "represent me",
        "representative",
        "be present",
        "both of us",
        "how old",
        "age limit",
        "old enough",
        "minimum age",
        # 2026-12-08: 271 more, written by a session that saw no set (its rejects: the end
        # of this file)
        "ai mới được",
        "ai mới có thể",
        "ai thì được",
        "ai cũng được",
        "ai cũng có thể",
        "ai đi cũng được",
        "người nào được",
        "người nào có thể",
        "người nào phải",
        "ai đi nộp",
        "ai đi nhận",
        "ai đi lấy",
        "ai đi khai",
        "ai đi đăng ký",
        "ai có trách nhiệm",
        "trách nhiệm khai",
        "trách nhiệm đăng ký",
        "có trách nhiệm đi",
        "trường hợp nào thì được",
        "cử người",
        "cử ai",
        "làm đại diện",
        "đứng đại diện",
        "uq",
        "ủy thác",
        "nhờ anh trai",
        "nhờ chị gái",
        "nhờ em trai",
        "nhờ em gái",
        "nhờ ông bà",
        "nhờ người thân",
        "nhờ người nhà",
        "nhờ họ hàng",
        "nhờ cha mẹ",
        "nhờ ba mẹ",
        "nhờ người quen",
        "nhờ luật sư",
        "nhờ dịch vụ",
        "nhờ bên dịch vụ",
        "khai giùm",
        "khai dùm",
        "ký giùm",
        "ký dùm",
        "nhận giùm",
        "nhận dùm",
        "xin giùm",
        "xin dùm",
        "đi dùm",
        "đăng ký giùm",
        "đăng ký dùm",
        "nộp giúp",
        "lấy giúp",
        "nhận giúp",
        "đi giúp",
        "đi cùng được không",
        "phải đích thân",
        "cần đích thân",
        "đích thân đi",
        "đích thân đến",
        "đích thân lên",
        "đích thân ký",
        "ký trước mặt",
        "phải đi cùng",
        "cần đi cùng",
        "phải đi chung",
        "phải cùng đi",
        "cùng có mặt",
        "phải đi cả hai",
        "không thể có mặt",
        "không có mặt được",
        "phải chính chủ",
        "không chính chủ",
        "chính chủ mới",
        "chính chủ đi",
        "chính chủ ký",
        "bắt buộc chính chủ",
        "chỉ cần một người",
        "chỉ cần 1 người",
        "chỉ một người",
        "một người đi",
        "1 người đi",
        "1 mình",
        "có cần người",
        "có được hưởng",
        "có được trợ giúp",
        "có được kết hôn",
        "có được cải chính",
        "có được nhận nuôi",
        "có được đứng tên",
        "được đứng tên",
        "người nước ngoài có được",
        "việt kiều có được",
        "chưa đủ 18",
        "đủ tiêu chuẩn",
        "đủ tư cách",
        "đủ đk",
        "do it for her",
        "do it for him",
        "do this for her",
        "do this for him",
        "apply for him",
        "file for him",
        "register for him",
        "sign for him",
        "sign for her",
        "sign for my",
        "collect it for",
        "pick it up for",
        "in his place",
        "in her place",
        "in their place",
        "instead of him",
        "instead of my wife",
        "instead of my husband",
        "get someone to",
        "ask someone to",
        "third party",
        "can another person",
        "can my brother",
        "can my sister",
        "can my son",
        "can my daughter",
        "can my cousin",
        "can my uncle",
        "can my aunt",
        "can my friend",
        "can my parents",
        "can my mom",
        "can my grandma",
        "can my grandmother",
        "can my grandfather",
        "can my grandpa",
        "can my partner",
        "can my fiance",
        "can my girlfriend",
        "can my boyfriend",
        "can my relative",
        "can my relatives",
        "can my lawyer",
        "can my agent",
        "can my sibling",
        "can my spouse",
        "can my child",
        "can my kids",
        "can my brother in law",
        "can my sister in law",
        "can my mother in law",
        "can my father in law",
        "can my mate",
        "can my missus",
        "can the missus",
        "can my hubby",
        "can the hubby",
        "can the wife",
        "can me mum",
        "can me missus",
        "can my kuya",
        "can my tita",
        "can my tito",
        "can her brother",
        "can his brother",
        "can her sister",
        "can his sister",
        "can her husband",
        "can his wife",
        "can her mother",
        "can his mother",
        "can her father",
        "can his father",
        "can her son",
        "can his son",
        "can her daughter",
        "can his daughter",
        "could my wife",
        "could my husband",
        "could my mother",
        "could my brother",
        "may my wife",
        "may my husband",
        "if my wife can",
        "if my husband can",
        "whether my wife can",
        "whether my husband can",
        "possible for my wife",
        "possible for my husband",
        "possible for my mother",
        "possible for my father",
        "possible for my brother",
        "possible for a relative",
        "possible for another person",
        "can an agent",
        "can a lawyer",
        "can a friend",
        "can a neighbour",
        "can a neighbor",
        "can a sibling",
        "can a parent",
        "can a guardian",
        "can a third party",
        "is he allowed",
        "is she allowed",
        "can a minor",
        "can minors",
        "can i as a foreigner",
        "does she have to come",
        "does he have to come",
        "does she need to come",
        "does he need to come",
        "come herself",
        "come himself",
        "go herself",
        "go himself",
        "go myself",
        "come myself",
        "in person herself",
        "in person himself",
        "have to be me",
        "has to be me",
        "need to be me",
        "needs to be me",
        "be me personally",
        "both need to come",
        "both need to attend",
        "both need to sign",
        "both need to go",
        "both have to come",
        "both have to attend",
        "both have to sign",
        "both have to go",
        "both attend",
        "have to attend",
        "need to attend",
        "must attend",
        "unable to attend",
        "cannot attend",
        "cant attend",
        "unable to come",
        "cannot come",
        "cant come",
        "accompany me",
        "accompany her",
        "accompany him",
        "need to accompany",
        "have to accompany",
        "come with me",
        "go with me",
        "come with him",
        "go with him",
        "without me being",
        "without me there",
        "without him there",
        "without her there",
        "without being present",
        "without being there",
        "must come together",
        "need to come together",
        "have to come together",
        "must go together",
        "need to go together",
        "have to go together",
        "applicant himself",
        "applicant herself",
        "applicant themselves",
        "applicant personally",
        "applicant in person",
        "only the applicant",
        "can one of us",
        "can just one of us",
        "can only one of us",
        "just one of us go",
        "only one of us go",
        # 2026-12-08, the kinds of who-questions both lists missed on the tuning sets: "nộp hộ"
        # followed by "được" ("nộp hộ sơ" is no such fold), both partners present, on behalf
        # of a named relative ("thay cho cháu"; "thay cho giấy" is a substitute paper), the
        # conditions (speaking Vietnamese, "can a single ...").
        "nộp hộ được",
        "nộp hộ đc",
        "làm hộ được",
        "làm hộ đc",
        "lấy hộ được",
        "lấy hộ đc",
        "xin hộ được",
        "xin hộ đc",
        "đi hộ được",
        "đi hộ đc",
        "hai bên có mặt",
        "2 bên có mặt",
        "cả hai cùng đi",
        "cả 2 cùng đi",
        "cả hai cùng lên",
        "cả 2 cùng lên",
        "hai đứa có mặt",
        "2 đứa có mặt",
        "có mặt cùng lúc",
        "thay cho cháu",
        "thay cho con",
        "thay cho bố",
        "thay cho mẹ",
        "thay cho vợ",
        "thay cho chồng",
        "thay cho em",
        "thay bố mẹ",
        "thay cho bố mẹ",
        "phải biết tiếng việt",
        "biết tiếng việt không",
        "need to speak vietnamese",
        "can a single",
        "can a foreign",
        "can an unmarried",
        "can a widow",
        "can a divorced",
    ),
}

# Words that fold like a facet's phrase but name something else: "làm hồ sơ" (to prepare a
# dossier) is not "làm hộ" (on someone's behalf), "tiền án" (a criminal record) is no money,
# "gia đình" and "quốc gia" hold no "giá" (price), "miễn nhiệm" (dismissal) is no exemption.
BLOCKERS: tuple[str, ...] = (
    "làm hồ sơ",
    "tiền án",
    "tiền sự",
    "gia đình",
    "gia hạn",
    "tham gia",
    "quốc gia",
    "gia cảnh",
    "gia tộc",
    "miễn nhiệm",
)

# Rejected by the session that wrote the 2026-12-08 phrases (each with what else it would catch);
# also left out of them: "ai ký"/"ai kí" (the signing official is the authority: where) and
# "have someone" ("I have someone who...").
# --- who ---
# có mặt không      : folds to "co mat khong", which also matches "lệ phí có mất không" (fee).
# vắng mặt          : also the name of a procedure ("tuyên bố vắng mặt tại nơi cư trú").
# không về được     : story detail; "ở nước ngoài không về được thì làm ở đâu" is a "where"
#     question.
# đang ở nước ngoài : story detail that usually leads to a where question (embassy).
# không đi được     : "thứ 7 em không đi được thì..." is about time/scheduling.
# có cần đi không   : presence vs. online-channel question ("có cần đi không hay làm online").
# có cần đến không  : "có cần đến giấy X không" (documents).
# phải trực tiếp / có phải trực tiếp : in-person vs. online is the channel facet.
# bắt buộc phải đi  : "bắt buộc phải đi nộp trực tiếp" (channel).
# phải về / có phải về / phải lên : "có phải về quê làm", "phải lên đâu" (where).
# cả hai bên        : "giấy xác nhận độc thân của cả hai bên" (documents).
# cả vợ và chồng / cả vợ lẫn chồng / cả bố và mẹ : "CCCD của cả vợ và chồng" (documents).
# vợ chồng có phải / chồng có cần / vợ có cần : "chồng có cần giấy xác nhận" (documents).
# X đi được (mẹ em đi được, chồng đi được, bố đi được) : "đi" also means died: "mẹ em đi được 3
#     năm".
# vợ đi được không  : "vo di" also folds from "vô đi" (Southern "go in").
# bố đi được không  : "bo di" also folds from "bỏ đi" (leave out a document).
# người nhà / người thân / ông bà / anh trai / chị gái : story details ("người nhà em mất, khai tử
#     cần giấy gì").
# người nhà đi / người thân đi : "đi" = died.
# người ngoài       : prefix of "người ngoài tỉnh" (where/residence).
# người giám hộ     : also the "đăng ký giám hộ" procedure and papers of the guardian (documents).
# người yêu cầu / người đi nộp / người làm thủ tục / người nộp : "người đi nộp mang theo CCCD"
#     (documents).
# người đứng tên    : content ("người đứng tên trên sổ đỏ").
# khai sinh cho / khai tử cho / đi khai tử cho / khai sinh cho cháu : "muốn đi khai sinh cho con
#     cần giấy gì" (documents).
# cho người thân / xin cho con / xin cho : "xin LLTP cho người thân cần giấy gì" (documents).
# có làm được không / có đi được không : "online có làm được không", "thứ 7 có đi được không".
# có được làm / có được nộp / có được nhận : "có được nộp online", "có được nhận qua bưu điện".
# có được khai      : "có được khai tên bố không" is about form content.
# có được miễn      : catches "có được miễn phí / miễn lệ phí" (fee facet).
# có bắt buộc       : "có bắt buộc mang bản gốc" (documents).
# có được ko / có đc ko / có dc k : teencode for "có được không", which is already too broad
#     (online/time questions).
# thay dc / thay đc : "dùng hộ chiếu thay dc ko" = using a substitute document (documents).
# xin thay / khai thay / đăng ký thay / đk thay / lm thay : followed by "đổi" = "thay đổi" (change
#     procedure).
# thay cho          : "dùng ... thay cho giấy khai sinh" (documents).
# khai hộ           : contains "khai ho", which matches "tờ khai hộ tịch".
# ký hộ             : "ky ho" matches "ký họ tên".
# nhận hộ / xin hộ / lm hộ : "nhận hồ sơ", "xin hồ sơ", "lm hồ sơ".
# đăng ký hộ        : "đăng ký hộ tịch / hộ khẩu".
# hộ mẹ / hộ bố / hộ vợ / hộ chồng / hộ con / hộ em : fold to "họ mẹ/họ bố..." (surname questions).
# làm giúp / khai giúp / đăng ký giúp / xin giúp : requests to the admin ("ad làm giúp em", "xin
#     giúp đỡ").
# ký giúp           : "xem kỹ giúp em" folds to "ky giup".
# giùm em           : "giải thích giùm em".
# nhờ anh / nhờ chị / nhờ bạn / nhờ cô : addressing the admin ("nhờ anh chị hướng dẫn").
# nhờ em            : folds like "nhỏ em" ("con nhỏ em").
# nhờ chú           : can fold like "nhỏ chữ" or address an officer.
# có ai             : "có ai biết không".
# ai đi / ai đi làm : "vợ chồng em ai đi làm cũng bận" (story detail).
# ai cần            : "ai cần giấy gì".
# tự làm / tự mình / bản thân : "tự làm online được không" (channel), story detail.
# người có công / hộ nghèo / người khuyết tật : legal-aid categories but also story details in
#     documents questions.
# dưới 18 tuổi / trên 18 tuổi : "cấp LLTP cho người dưới 18 tuổi cần giấy gì".
# có nghĩa vụ       : "có nghĩa vụ quân sự" (story).
# tiêu chuẩn / tư cách (alone) : "ảnh tiêu chuẩn" (documents), "tư cách pháp nhân".
# cần chính chủ     : folds to "can chinh chu", which also matches "căn (hộ) chính chủ".
# người nước ngoài có thể : "người nước ngoài có thể nộp ở đâu" (where).
# tạm trú có được   : residence questions are usually where questions.
# người làm chứng / làm chứng : unclear whether it's about the witness's papers or who can be a
#     witness.
# trường hợp nào phải : "trường hợp nào phải nộp bản sao" (documents).
# can i apply for my : "can i apply for my marriage certificate online" (channel).
# apply for her / file for her / submit for her : "her" can be possessive ("apply for her birth
#     certificate").
# apply for them / file for them / do it for them : "them" often refers to documents ("where do i
#     apply for them").
# come with her / without her / instead of her : possessive "her" ("without her passport").
# instead of my / in place of : "in place of the birth certificate" (documents).
# can anyone / could someone / can someone : "can anyone tell me where...", "can someone help".
# who signs / who files / who submits / who collects / who will sign : relative clauses ("the
#     person who collects it must bring ID").
# does my wife need to / does my husband have to : "does my wife need to bring her passport"
#     (documents).
# do both parents / both parents / both need to / both have to / both of them : "do we both need
#     to bring passports" (documents).
# both come         : "both come from Hanoi" (story).
# need to be there / have to be there / do we need to be there / does he need to be there : "what
#     time do we need to be there" (time).
# in person / appear in person : in-person vs. online is the channel facet.
# by myself / alone / on her own / himself / herself : "is the birth certificate alone enough",
#     "registered herself".
# is it ok if my / is it okay for my : "is it ok if my passport is expired" (documents).
# are they allowed / is it allowed : "are they (photocopies) allowed".
# send my           : "can i send my documents by post" (channel).
# let my wife       : "let my wife know" (story).
# am i able to / can i still apply / can i apply if : "...apply online", "...if my documents are
#     in English".
# as a foreigner / non resident : "as a foreigner where do I go" (where).
# legal guardian / next of kin / bedridden : story details.
# whose name        : about form content, not who files.
# another person (alone) / only the owner : "another person's documents", "only the owner's ID".
# --- where ---
# chỗ nào (alone)   : "điền chỗ nào" (how to fill in the form).
# đến đâu / tới đâu : "hồ sơ đến đâu rồi" (status).
# đi đâu (alone)    : "hồ sơ đi đâu rồi" (status) / story.
# về đâu            : folds like "về dâu" (marry into a family).
# làm đâu           : folds like "làm dâu".
# lấy đâu           : idiom "lấy đâu ra tiền".
# đăng ký đâu       : "đăng ký đầu tiên" folds to it.
# đâu ạ             : "bắt đầu ạ" folds to it.
# quận nào          : "giấy tờ liên quan nào" folds to contain "quan nao".
# bàn nào           : "bạn nào" (which of you).
# địa chỉ / địa chỉ sở : "địa chỉ thường trú" (story); "địa chỉ số nhà".
# nơi đăng ký / nơi cấp / nơi làm / nơi cư trú / nơi tạm trú : residence/ID-card fields and
#     workplace (story details).
# một cửa / bộ phận một cửa / hành chính công / phòng tư pháp / trụ sở : appear in status stories
#     ("đã nộp ở một cửa rồi mà...").
# đại sứ quán / lãnh sự / at the embassy / or the embassy : "hợp pháp hóa lãnh sự", "legalised at
#     the embassy" (documents).
# bưu điện / through the embassy : delivery/channel.
# gần nhất          : "lần gần nhất" (time).
# where (alone) / where is / where are : relative use; "where is my application" (status).
# in another province (alone) : "my husband lives in another province, can he sign..." (who).
# --- documents ---
# cần gì / những gì / cần những gì : "cần gì để được trợ giúp" (who/eligibility), idiom "cần gì
#     phải".
# hồ sơ cần         : "hồ sơ cần nộp ở đâu" (where).
# bản sao / công chứng / chứng thực / dịch thuật : names of procedures or story details.
# mất giấy          : reissue story ("mất giấy khai sinh").
# giấy tờ tùy thân  : story ("em mất giấy tờ tùy thân").
# lấy mẫu           : "lấy mẫu ADN".
# mấy bản           : folds like "mấy bạn" / "máy bán".
# phải mang / cần mang : "phải mang thai hộ" (surrogacy).
# cần mang theo / có cần mang : "có cần mang theo cháu bé không" (presence of a person).
# tờ khai (alone)   : correction stories ("tờ khai ghi sai").
# need to bring / have to bring / should i bring : "do I need to bring my husband" (presence = who).
# need to show      : "need to show up" (presence).
# notarized / translated / legalised (alone) : "where can I get it notarized" (where).
# birth certificate / application form / proof of / evidence : story details.
# do i need a       : "do i need a lawyer" (who).
