/* srttext: a caption made into the text of one SubRip (.srt) cue that can never form SRT
 * structure of its own, whatever a model wrote: a caption may add neither a cue nor a timing.
 *
 * SRT is "number, timing line (A --> B), text lines, a blank line". So the text keeps no blank
 * or whitespace-only line (Unicode spaces and invisible format characters count as blank), no
 * "-->" (a line that could be read as a timing, with or without a cue number before it), and
 * no control character: CR, LF, VT, FF, NEL (U+0085) and U+2028/U+2029 end a line; tabs and
 * other controls (C0, DEL, C1) become spaces; Unicode spaces become ASCII spaces; zero-width
 * spaces are dropped; bytes that are not UTF-8 become '?'. Lines are trimmed. */
#ifndef GF_SRTTEXT_H
#define GF_SRTTEXT_H

#include "buf.h"

/* Append the cue text of `caption` to `out`: its lines joined by '\n', without a final newline;
 * nothing when the caption has no visible text. */
void srt_cue_text(struct buf *out, const char *caption);

#endif
