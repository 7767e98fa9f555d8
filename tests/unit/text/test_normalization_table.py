"""Normalized text and toned pinyin (after sandhi) for each normalization category.

Every row: (input, expected normalized text, expected pinyin). Expectations are the
standard Mandarin readings, written by hand; tone numbers are the surface tones the voice
should say (third-tone sandhi applied, 5 = neutral).
"""

from __future__ import annotations

import pytest

CASES: dict[str, list[tuple[str, str, str]]] = {
    "integer": [
        ("我有3个苹果", "我有三个苹果", "wo2 you3 san1 ge4 ping2 guo3"),
        ("共有1005人", "共有一千零五人", "gong4 you3 yi4 qian1 ling2 wu3 ren2"),
        ("10个人", "十个人", "shi2 ge4 ren2"),
        ("110路", "一百一十路", "yi4 bai3 yi1 shi2 lu4"),
        ("2000元", "两千元", "liang3 qian1 yuan2"),
        ("20000人", "两万人", "liang3 wan4 ren2"),
        (
            "1,234,567人",
            "一百二十三万四千五百六十七人",
            "yi4 bai3 er4 shi2 san1 wan4 si4 qian1 wu2 bai3 liu4 shi2 qi1 ren2",
        ),
        ("0", "零", "ling2"),
        ("100000000", "一亿", "yi2 yi4"),
        ("2个", "两个", "liang3 ge4"),
        ("2年级", "二年级", "er4 nian2 ji2"),
    ],
    "decimal": [
        ("圆周率是3.14", "圆周率是三点一四", "yuan2 zhou1 lv4 shi4 san1 dian3 yi1 si4"),
        ("0.5", "零点五", "ling2 dian2 wu3"),
        ("1.5万", "一点五万", "yi1 dian2 wu3 wan4"),
    ],
    "negative": [
        ("-3", "负三", "fu4 san1"),
        ("-3.5", "负三点五", "fu4 san1 dian2 wu3"),
        ("气温-5度", "气温负五度", "qi4 wen1 fu4 wu3 du4"),
    ],
    "fraction": [
        ("3/4", "四分之三", "si4 fen1 zhi1 san1"),
        ("1/2", "二分之一", "er4 fen1 zhi1 yi1"),
        ("½", "二分之一", "er4 fen1 zhi1 yi1"),
    ],
    "percent": [
        ("12%", "百分之十二", "bai3 fen1 zhi1 shi2 er4"),
        ("3.5%", "百分之三点五", "bai3 fen1 zhi1 san1 dian2 wu3"),
        ("-2%", "负百分之二", "fu4 bai3 fen1 zhi1 er4"),
        ("10%-20%", "百分之十到百分之二十", "bai3 fen1 zhi1 shi2 dao4 bai3 fen1 zhi1 er4 shi2"),
        ("１００％", "百分之一百", "bai3 fen1 zhi1 yi4 bai3"),
    ],
    "year": [
        ("2015年", "二零一五年", "er4 ling2 yi1 wu3 nian2"),
        ("2000年", "二零零零年", "er4 ling2 ling2 ling2 nian2"),
        ("2015-2016年", "二零一五到二零一六年", "er4 ling2 yi1 wu3 dao4 er4 ling2 yi1 liu4 nian2"),
        ("98年3月", "九八年三月", "jiu3 ba1 nian2 san1 yue4"),
    ],
    "date": [
        ("2024年3月5日", "二零二四年三月五日", "er4 ling2 er4 si4 nian2 san1 yue4 wu3 ri4"),
        ("2024-03-05", "二零二四年三月五日", "er4 ling2 er4 si4 nian2 san1 yue4 wu3 ri4"),
        ("2024/3/5", "二零二四年三月五日", "er4 ling2 er4 si4 nian2 san1 yue4 wu3 ri4"),
        ("2024.03.05", "二零二四年三月五日", "er4 ling2 er4 si4 nian2 san1 yue4 wu3 ri4"),
        ("3月8日", "三月八日", "san1 yue4 ba1 ri4"),
        ("12月31号", "十二月三十一号", "shi2 er4 yue4 san1 shi2 yi1 hao4"),
        ("一月一日", "一月一日", "yi1 yue4 yi1 ri4"),
    ],
    "time": [
        ("14:30", "十四点三十分", "shi2 si4 dian3 san1 shi2 fen1"),
        ("9:05", "九点零五分", "jiu2 dian3 ling2 wu3 fen1"),
        ("2:00", "两点", "liang2 dian3"),
        ("14:30:15", "十四点三十分十五秒", "shi2 si4 dian3 san1 shi2 fen1 shi2 wu2 miao3"),
        ("2点", "两点", "liang2 dian3"),
        ("１２：３０", "十二点三十分", "shi2 er4 dian3 san1 shi2 fen1"),
        ("9:00~10:00", "九点到十点", "jiu2 dian3 dao4 shi2 dian3"),
        (
            "12:30-13:45",
            "十二点三十分到十三点四十五分",
            "shi2 er4 dian3 san1 shi2 fen1 dao4 shi2 san1 dian3 si4 shi2 wu3 fen1",
        ),
    ],
    "money": [
        ("¥12.50", "十二元五角", "shi2 er4 yuan2 wu2 jiao3"),
        ("¥0.05", "五分", "wu3 fen1"),
        ("$3", "三美元", "san1 mei3 yuan2"),
        ("€100", "一百欧元", "yi4 bai3 ou1 yuan2"),
        ("£5", "五英镑", "wu3 ying1 bang4"),
        ("128.5元", "一百二十八点五元", "yi4 bai3 er4 shi2 ba1 dian2 wu3 yuan2"),
        ("5元3角", "五元三角", "wu3 yuan2 san1 jiao3"),
        ("2元", "两元", "liang3 yuan2"),
        ("¥100万", "一百万元", "yi4 bai3 wan4 yuan2"),
    ],
    "phone_id": [
        (
            "13912345678",
            "幺三九幺二三四五六七八",
            "yao1 san1 jiu3 yao1 er4 san1 si4 wu3 liu4 qi1 ba1",
        ),
        (
            "139-1234-5678",
            "幺三九幺二三四五六七八",
            "yao1 san1 jiu3 yao1 er4 san1 si4 wu3 liu4 qi1 ba1",
        ),
        (
            "010-12345678",
            "零幺零幺二三四五六七八",
            "ling2 yao1 ling2 yao1 er4 san1 si4 wu3 liu4 qi1 ba1",
        ),
        (
            "400-800-1234",
            "四零零八零零幺二三四",
            "si4 ling2 ling2 ba1 ling2 ling2 yao1 er4 san1 si4",
        ),
        (
            "11010519491231002X",
            "幺幺零幺零五幺九四九幺二三幺零零二X",
            "yao1 yao1 ling2 yao1 ling2 wu3 yao1 jiu3 si4 jiu3 yao1 er4 san1 yao1 ling2 ling2 er4 "
            "ai2 ke4 si5",
        ),
        ("房间号是301", "房间号是三零幺", "fang2 jian1 hao4 shi4 san1 ling2 yao1"),
        ("验证码是1024", "验证码是幺零二四", "yan4 zheng4 ma3 shi4 yao1 ling2 er4 si4"),
    ],
    "unit": [
        ("10km", "十公里", "shi2 gong1 li3"),
        ("5kg", "五公斤", "wu3 gong1 jin1"),
        ("36.5°C", "三十六点五摄氏度", "san1 shi2 liu4 dian2 wu3 she4 shi4 du4"),
        ("-5°C", "零下五摄氏度", "ling2 xia4 wu3 she4 shi4 du4"),
        ("16GB", "十六GB", "shi2 liu4 ji4 bi4"),
        ("120km/h", "一百二十公里每小时", "yi4 bai3 er4 shi2 gong1 li3 mei2 xiao3 shi2"),
        ("30cm", "三十厘米", "san1 shi2 li2 mi3"),
        ("100m²", "一百平方米", "yi4 bai3 ping2 fang1 mi3"),
        ("30°", "三十度", "san1 shi2 du4"),
        ("2km", "两公里", "liang3 gong1 li3"),
        ("5min", "五分钟", "wu3 fen1 zhong1"),
        ("3.5kg", "三点五公斤", "san1 dian2 wu3 gong1 jin1"),
    ],
    "range": [
        ("3-5天", "三到五天", "san1 dao4 wu3 tian1"),
        ("3~5天", "三到五天", "san1 dao4 wu3 tian1"),
        ("20-25°C", "二十到二十五摄氏度", "er4 shi2 dao4 er4 shi2 wu3 she4 shi4 du4"),
        ("1-2个", "一到两个", "yi1 dao4 liang3 ge4"),
    ],
    "score_ratio": [
        ("3:2", "三比二", "san1 bi3 er4"),
        ("3比2", "三比二", "san1 bi3 er4"),
        ("比分是2:1", "比分是二比一", "bi3 fen1 shi4 er4 bi3 yi1"),
        ("以3:20获胜", "以三比二十获胜", "yi3 san1 bi3 er4 shi2 huo4 sheng4"),
        ("1+1=2", "一加一等于二", "yi1 jia1 yi1 deng3 yu2 er4"),
    ],
    "ordinal": [
        ("第3名", "第三名", "di4 san1 ming2"),
        ("第2个", "第二个", "di4 er4 ge4"),
        ("第10届", "第十届", "di4 shi2 jie4"),
        ("第一", "第一", "di4 yi1"),
    ],
    "letters": [
        ("GPU", "GPU", "ji4 pi1 you1"),
        ("AI", "AI", "ei1 ai4"),
        ("cpu", "CPU", "xi1 pi1 you1"),
        ("5G网络", "五G网络", "wu3 ji4 wang3 luo4"),
        ("USB接口", "USB接口", "you1 ai2 si5 bi4 jie1 kou3"),
        ("abc@qq.com", "ABC艾特QQ点COM", "ei1 bi4 xi1 ai4 te4 qiu1 qiu1 dian3 xi1 ou1 ai2 mu5"),
    ],
    "width": [
        ("ＡＢＣ", "ABC", "ei1 bi4 xi1"),
        ("１２３", "一百二十三", "yi4 bai3 er4 shi2 san1"),
        ("你好！", "你好！", "ni2 hao3"),
        ("你好\n再见", "你好。再见", "ni2 hao3 zai4 jian4"),
    ],
    "emoji_control": [
        ("你好😀", "你好", "ni2 hao3"),
        ("你\u200b好", "你好", "ni2 hao3"),
        ("👍好的", "好的", "hao3 de5"),
        ("你\x00们\x1b好", "你们好", "ni3 men5 hao3"),
        ("❤️谢谢", "谢谢", "xie4 xie5"),
    ],
    "traditional": [
        ("語音合成", "语音合成", "yu3 yin1 he2 cheng2"),
        ("臺灣", "台湾", "tai2 wan1"),
        ("後來發現", "后来发现", "hou4 lai2 fa1 xian4"),
        ("頭髮很長", "头发很长", "tou2 fa4 hen3 chang2"),
    ],
}

ROWS = [(cat, *row) for cat, rows in CASES.items() for row in rows]


@pytest.mark.parametrize(
    ("category", "text", "normalized", "pinyin"),
    ROWS,
    ids=[f"{cat}:{text}" for cat, text, _, _ in ROWS],
)
def test_reading(frontend, category, text, normalized, pinyin):
    result = frontend.encode(text)
    assert result.normalized == normalized
    assert " ".join(result.pinyin) == pinyin
