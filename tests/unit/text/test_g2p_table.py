"""Toned pinyin for polyphones, tone sandhi, neutral tones and erhua, checked per syllable.

Expected values are standard Mandarin surface readings, written by hand
(third-tone sandhi applied; 5 = neutral tone; erhua spelled as one syllable, 'huar1').
"""

from __future__ import annotations

import pytest

CASES: dict[str, list[tuple[str, str]]] = {
    "polyphone": [
        ("银行", "yin2 hang2"),
        ("行长", "hang2 zhang3"),
        ("银行行长", "yin2 hang2 hang2 zhang3"),
        ("行业", "hang2 ye4"),
        ("还钱", "huan2 qian2"),
        ("还是", "hai2 shi4"),
        ("他还了我五百块钱", "ta1 huan2 le5 wo3 wu2 bai3 kuai4 qian2"),
        ("他还说谢谢", "ta1 hai2 shuo1 xie4 xie5"),
        ("长城", "chang2 cheng2"),
        ("长大", "zhang3 da4"),
        ("长江", "chang2 jiang1"),
        ("这条路很长", "zhe4 tiao2 lu4 hen3 chang2"),
        ("他长得很高", "ta1 zhang3 de5 hen3 gao1"),
        ("最长的河流", "zui4 chang2 de5 he2 liu2"),
        ("重庆", "chong2 qing4"),
        ("重要", "zhong4 yao4"),
        ("重新开始", "chong2 xin1 kai1 shi3"),
        ("音乐", "yin1 yue4"),
        ("快乐", "kuai4 le4"),
        ("娱乐", "yu2 le4"),
        ("朝代", "chao2 dai4"),
        ("睡觉", "shui4 jiao4"),
        ("觉得", "jue2 de5"),
        ("好处", "hao3 chu4"),
        ("处理", "chu2 li3"),
        ("着急", "zhao2 ji2"),
        ("看着", "kan4 zhe5"),
        ("睡不着", "shui4 bu5 zhao2"),
        ("干净", "gan1 jing4"),
        ("干活", "gan4 huo2"),
        ("教书", "jiao1 shu1"),
        ("教育", "jiao4 yu4"),
        ("便宜", "pian2 yi5"),
        ("方便", "fang1 bian4"),
        ("调查", "diao4 cha2"),
        ("空调", "kong1 tiao2"),
        ("差不多", "cha4 bu5 duo1"),
        ("出差", "chu1 chai1"),
        ("慢慢地走", "man4 man4 de5 zou3"),
        ("得到", "de2 dao4"),
        ("他跑得很快", "ta1 pao3 de5 hen3 kuai4"),
        ("我得走了", "wo3 dei2 zou3 le5"),
        ("暖和", "nuan3 huo5"),
        ("弹琴", "tan2 qin2"),
        ("子弹", "zi3 dan4"),
        ("首都", "shou3 du1"),
        ("都是", "dou1 shi4"),
        ("会计", "kuai4 ji4"),
        ("厦门", "xia4 men2"),
        ("大厦", "da4 sha4"),
        ("背包", "bei1 bao1"),
        ("后背", "hou4 bei4"),
        ("模样", "mu2 yang4"),
        ("模型", "mo2 xing2"),
        ("投降", "tou2 xiang2"),
        ("降落", "jiang4 luo4"),
        ("流血", "liu2 xue4"),
        ("血液", "xue4 ye4"),
        ("了解", "liao2 jie3"),
        ("大夫", "dai4 fu5"),
        ("一只猫", "yi4 zhi1 mao1"),
        ("中奖", "zhong4 jiang3"),
        ("传记", "zhuan4 ji4"),
        ("头发", "tou2 fa4"),
        ("爱好", "ai4 hao4"),
        ("效率", "xiao4 lv4"),
        ("率领", "shuai4 ling3"),
        ("人参", "ren2 shen1"),
        ("尽力", "jin4 li4"),
    ],
    "third_tone": [
        ("你好", "ni2 hao3"),
        ("老鼠", "lao2 shu3"),
        ("水果", "shui2 guo3"),
        ("展览馆", "zhan2 lan2 guan3"),
        ("小老虎", "xiao3 lao2 hu3"),
        ("我很好", "wo3 hen2 hao3"),
        ("尽管", "jin2 guan3"),
        ("五百", "wu2 bai3"),
    ],
    "yi_bu": [
        ("一个", "yi2 ge4"),
        ("一天", "yi4 tian1"),
        ("一年", "yi4 nian2"),
        ("一起", "yi4 qi3"),
        ("一定", "yi2 ding4"),
        ("一样", "yi2 yang4"),
        ("一百", "yi4 bai3"),
        ("第一", "di4 yi1"),
        ("十一", "shi2 yi1"),
        ("统一", "tong3 yi1"),
        ("看一看", "kan4 yi5 kan4"),
        ("不去", "bu2 qu4"),
        ("不对", "bu2 dui4"),
        ("不好", "bu4 hao3"),
        ("不知道", "bu4 zhi1 dao5"),
        ("是不是", "shi4 bu5 shi4"),
        ("对不起", "dui4 bu5 qi3"),
        ("不一定", "bu4 yi2 ding4"),
    ],
    "neutral": [
        ("我们", "wo3 men5"),
        ("桌子", "zhuo1 zi5"),
        ("妈妈", "ma1 ma5"),
        ("谢谢", "xie4 xie5"),
        ("朋友", "peng2 you5"),
        ("东西", "dong1 xi5"),
        ("什么", "shen2 me5"),
        ("明白", "ming2 bai5"),
        ("衣服", "yi1 fu5"),
        ("看看", "kan4 kan5"),
        ("你吃饭了吗", "ni3 chi1 fan4 le5 ma5"),
        ("走吧", "zou3 ba5"),
    ],
    "erhua": [
        ("花儿", "huar1"),
        ("一点儿", "yi4 dianr3"),
        ("哪儿", "nar3"),
        ("这儿", "zher4"),
        ("好玩儿", "hao3 wanr2"),
        ("一会儿", "yi2 huir4"),
        ("女儿", "nv3 er2"),
        ("婴儿", "ying1 er2"),
    ],
    "sentence": [
        (
            "行长说银行今年的业绩不错。",
            "hang2 zhang3 shuo1 yin2 hang2 jin1 nian2 de5 ye4 ji4 bu2 cuo4",
        ),
        ("我们一起去长城看看吧！", "wo3 men5 yi4 qi3 qu4 chang2 cheng2 kan4 kan5 ba5"),
        ("请不要在车厢内吸烟。", "qing3 bu2 yao4 zai4 che1 xiang1 nei4 xi1 yan1"),
        ("这是一本关于人工智能的书", "zhe4 shi4 yi4 ben3 guan1 yu2 ren2 gong1 zhi4 neng2 de5 shu1"),
        ("会议将于下午3点举行", "hui4 yi4 jiang1 yu2 xia4 wu3 san1 dian2 ju3 xing2"),
    ],
}

ROWS = [(cat, *row) for cat, rows in CASES.items() for row in rows]


@pytest.mark.parametrize(("category", "text", "pinyin"), ROWS,
                         ids=[f"{c}:{t}" for c, t, _ in ROWS])  # fmt: skip
def test_pinyin(frontend, category, text, pinyin):
    assert " ".join(frontend.encode(text).pinyin) == pinyin


def test_table_covers_at_least_150_cases():
    from test_normalization_table import ROWS as NORMALIZATION_ROWS

    assert len(ROWS) + len(NORMALIZATION_ROWS) >= 150
