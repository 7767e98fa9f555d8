"""Small, documented corrections on top of pypinyin's phrase data.

pypinyin (0.55) reads most polyphones right from its phrase dictionary. What it gets
wrong falls in three groups, each a table here:

* WORD_READINGS: whole-word readings that pypinyin has wrong (checked one by one);
* NEUTRAL_LAST: words whose last syllable is neutral in standard Mandarin (the
  Xiandai Hanyu Cidian marks them, pypinyin gives the citation tone);
* NOT_ERHUA: words ending in 儿 where 儿 is a full syllable (女儿), not an r-suffix.

Single-character words whose reading depends on the neighbours (还, 长, 地, 得, 只, 行, 为)
or whose pypinyin default is the rarer reading (切) are handled by `single_char_reading`.
"""

from __future__ import annotations

WORD_READINGS: dict[str, tuple[str, ...]] = {
    "流血": ("liu2", "xue4"),  # pypinyin: xie3 (colloquial); standard is xuè
    "睡不着": ("shui4", "bu5", "zhao2"),  # pypinyin: zhe5
    "东西": ("dong1", "xi5"),  # 'thing'; the direction pair 东西 is much rarer in speech
    "还钱": ("huan2", "qian2"),
    "还书": ("huan2", "shu1"),
    "还清": ("huan2", "qing1"),
    "还了": ("huan2", "le5"),
    "长得": ("zhang3", "de5"),
    "得很": ("de5", "hen3"),
    "重重": ("chong2", "chong2"),
    "大夫": ("dai4", "fu5"),  # 'doctor'; pypinyin gives the ancient title dà fū
    "踏实": ("ta1", "shi5"),  # pypinyin: ta4 shi2
    "琢磨": ("zuo2", "mo5"),  # 'ponder'; zhuómó 'polish jade' is literary
}

NEUTRAL_LAST: frozenset[str] = frozenset(
    [
        "朋友",
        "衣服",
        "明白",
        "舒服",
        "先生",
        "时候",
        "事情",
        "告诉",
        "豆腐",
        "漂亮",
        "知道",
        "学生",
        "消息",
        "休息",
        "喜欢",
        "麻烦",
        "认识",
        "清楚",
        "窗户",
        "月亮",
        "太阳",
        "眼睛",
        "耳朵",
        "脑袋",
        "聪明",
        "热闹",
        "客气",
        "生意",
        "商量",
        "葡萄",
        "部分",
        "姑娘",
        "丈夫",
        "媳妇",
        "师傅",
        "收拾",
        "打扮",
        "打算",
        "故事",
        "玻璃",
        "力气",
        "名字",
        "咳嗽",
        "凉快",
        "痛快",
        "糊涂",
        "结实",
        "老实",
        "踏实",
        "规矩",
        "和尚",
        "嘴巴",
        "下巴",
        "胳膊",
        "出息",
        "机灵",
        "吩咐",
        "招呼",
        "照顾",
        "应酬",
        "琢磨",
        "溜达",
        "喇叭",
        "马虎",
        "别扭",
        "牲口",
        "庄稼",
        "包袱",
        "动静",
        "心思",
        "主意",
        "在乎",
        "将就",
        "凑合",
        "亲戚",
        "芝麻",
        "石榴",
        "核桃",
        "苍蝇",
        "蘑菇",
        "狐狸",
        "骆驼",
        "云彩",
        "早上",
        "晚上",
        "上边",
        "下边",
        "里边",
        "外边",
        "前边",
        "后边",
        "上面",
        "下面",
        "里面",
        "外面",
        "小气",
        "模糊",
        "含糊",
        "迷糊",
        "合同",
        "扫帚",
        "指甲",
        "喜鹊",
        "累赘",
        "妯娌",
        "地方",
        "意思",
        "暖和",
        "萝卜",
        "钥匙",
        "便宜",
        "石头",
        "木头",
        "舌头",
        "骨头",
        "尾巴",
        "工夫",
        "功夫",
        "妈妈",
        "爸爸",
        "哥哥",
        "姐姐",
        "弟弟",
        "妹妹",
        "爷爷",
        "奶奶",
        "叔叔",
        "婶婶",
        "舅舅",
        "伯伯",
        "姑姑",
        "姥姥",
        "公公",
        "婆婆",
        "宝宝",
        "谢谢",
        "看看",
        "试试",
        "听听",
        "说说",
        "走走",
        "聊聊",
        "问问",
        "尝尝",
        "坐坐",
        "玩玩",
        "歇歇",
    ]
)

NOT_ERHUA: frozenset[str] = frozenset(
    [
        "儿",
        "女儿",
        "婴儿",
        "幼儿",
        "孤儿",
        "健儿",
        "男儿",
        "胎儿",
        "患儿",
        "少儿",
        "宠儿",
        "混血儿",
        "新生儿",
        "乳儿",
        "孩儿",
        "幸运儿",
        "弄潮儿",
        "育儿",
        "孙儿",
        "小儿",
        "早产儿",
        "弃儿",
    ]
)

# pypinyin's default for these one-character words is the rarer reading.
SINGLE_CHAR_READINGS = {"切": "qie1"}  # qiè lives in words (一切, 亲切), the verb is qiē

# 为 after these verb endings is wéi 'to be/become' (转化为, 分为, 称为), else wèi 'for'.
_WEI2_AFTER = frozenset("化变改分转定称视作认选列划译换缩成")

_NUMERAL_CHARS = frozenset("一二两三四五六七八九十百千万几每半")
_PRONOUNS_AND_MODALS = frozenset(
    [
        "我",
        "你",
        "他",
        "她",
        "它",
        "您",
        "我们",
        "你们",
        "他们",
        "她们",
        "咱们",
        "大家",
        "就",
        "还",
        "也",
        "都",
        "总",
        "可",
        "必须",
        "真",
    ]
)


def single_char_reading(char: str, prev: str, next_: str, default: str) -> str:
    """Reading of a one-character word from its neighbouring words ('' at a pause)."""
    if char == "还":  # huán 'give back' before an object or 了, else hái 'still'
        if next_[:1] in ("了", "给", "钱", "债", "款", "清", "书", "贷"):
            return "huan2"
        return "hai2"
    if char == "长":  # zhǎng 'grow' before a result/aspect, else cháng 'long'
        return "zhang3" if next_[:1] in ("大", "高", "出", "了", "得", "满", "胖") else "chang2"
    if char == "地":  # adverbial de after a multi-character modifier followed by a verb
        if len(prev) >= 2 and next_ and not prev.endswith(("块", "片", "这", "那")):
            return "de5"
        return "di4"
    if char == "得":  # děi 'must' after a pronoun/modal, dé before 了, de as complement
        if prev in _PRONOUNS_AND_MODALS:
            return "de2" if next_.startswith("了") else "dei3"
        return "de5" if prev else "de2"
    if char == "只" and prev and prev[-1] in _NUMERAL_CHARS:  # measure word 'zhī'
        return "zhi1"
    if char == "行" and prev and prev[-1] in _NUMERAL_CHARS:  # measure word 'háng' (line)
        return "hang2"
    if char == "为":
        return "wei2" if prev and prev[-1] in _WEI2_AFTER else "wei4"
    return SINGLE_CHAR_READINGS.get(char, default)
