// Character highlight while audio plays: the text as one <span> per timed character (from
// POST /v1/tts with "timestamps": true), the one being spoken marked. Times are seconds of
// audio; the caller says where playback is (live stream or the <audio> player).

export class CharHighlighter {
  constructor(container) {
    this.container = container;
    this.segments = [];
    this.spans = [];
    this.active = -1;
  }

  // segments: [{text, pinyin, start, end}], in order (the service's JSON).
  show(segments) {
    this.container.replaceChildren();
    this.segments = segments;
    this.spans = segments.map((segment) => {
      const span = document.createElement("span");
      span.textContent = segment.text;
      span.title = `${segment.pinyin} ${segment.start.toFixed(2)}-${segment.end.toFixed(2)} s`;
      this.container.append(span);
      return span;
    });
    this.active = -1;
    this.container.hidden = segments.length === 0;
  }

  // The segment spoken at `seconds` (-1 before the first and in pauses after the last).
  indexAt(seconds) {
    let low = 0, high = this.segments.length - 1, found = -1;
    while (low <= high) { // the last segment that starts at or before `seconds`
      const middle = (low + high) >> 1;
      if (this.segments[middle].start <= seconds) { found = middle; low = middle + 1; } else high = middle - 1;
    }
    return found >= 0 && seconds < this.segments[found].end ? found : -1;
  }

  update(seconds) {
    const index = this.indexAt(seconds);
    if (index === this.active) return index;
    if (this.active >= 0) this.spans[this.active].classList.remove("speaking");
    if (index >= 0) this.spans[index].classList.add("speaking");
    this.active = index;
    return index;
  }

  clear() {
    this.show([]);
  }
}
