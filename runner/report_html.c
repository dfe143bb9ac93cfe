/* report_html: escaping, relative media URLs and the frame (inline style sheet) of report.html. */
#include "report.h"
#include "util.h"

#include <string.h>

void html_esc(struct buf *b, const char *s)
{
    for (const char *p = s; p && *p; p++) {
        switch (*p) {
        case '&':
            buf_adds(b, "&amp;");
            break;
        case '<':
            buf_adds(b, "&lt;");
            break;
        case '>':
            buf_adds(b, "&gt;");
            break;
        case '"':
            buf_adds(b, "&quot;");
            break;
        case '\'':
            buf_adds(b, "&#39;");
            break;
        default:
            buf_addc(b, *p);
        }
    }
}

void html_rel_url(struct buf *b, const char *rel)
{
    /* Unreserved characters and "/" as they are, everything else percent-encoded: no scheme,
     * query or fragment can appear, so the URL always stays relative to the page. */
    static const char hex[] = "0123456789ABCDEF";
    if (rel[0] == '/' || strchr(rel, ':'))
        buf_adds(b, "./"); /* never absolute, never a scheme */
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p)) {
            buf_addc(b, (char)*p);
        } else {
            buf_addc(b, '%');
            buf_addc(b, hex[*p >> 4]);
            buf_addc(b, hex[*p & 15]);
        }
    }
}

static const char style[] =
    ":root{--fg:#1d232b;--muted:#5d6b7a;--line:#d9dee4;--bg:#f6f7f9;--card:#fff;"
    "--ok:#1f7a3a;--bad:#b3261e;--warn:#8a5a00;--run:#0b5cad}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e4e8ee;--muted:#9aa7b5;--line:#3a424d;"
    "--bg:#15191e;--card:#1d232b;--ok:#6fcf8a;--bad:#ff8a80;--warn:#f0c060;--run:#7ab8ff}}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "color:var(--fg);background:var(--bg)}"
    "header,main,footer{max-width:1200px;margin:0 auto;padding:0 20px}"
    "header{padding-top:24px}h1{margin:0 0 4px;font-size:26px}"
    "h2{margin:32px 0 12px;font-size:19px;border-bottom:1px solid var(--line);padding-bottom:4px}"
    "h3{margin:0 0 8px;font-size:16px}"
    ".meta{color:var(--muted);margin:0}.meta b{color:var(--fg);font-weight:600}"
    "nav{margin:12px 0 0;display:flex;gap:14px;flex-wrap:wrap}"
    "nav a{color:var(--run);text-decoration:none}"
    "table{border-collapse:collapse;width:100%;background:var(--card);font-size:14px}"
    "th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);"
    "vertical-align:top}"
    "th{color:var(--muted);font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;"
    "font-weight:600;border:1px solid currentColor}"
    ".done,.accepted{color:var(--ok)}.failed,.killed,.invalid{color:var(--bad)}"
    ".running{color:var(--run)}.edited,.partial,.pending,.interrupted,.rerouted,.paid_retries{"
    "color:var(--warn)}"
    ".waiting,.new{color:var(--muted)}"
    "pre{white-space:pre-wrap;word-break:break-word;background:var(--card);"
    "border:1px solid var(--line);border-radius:6px;padding:12px;margin:0;font-size:13px;"
    "max-height:480px;overflow:auto}"
    "details{margin:0 0 12px}summary{cursor:pointer;color:var(--muted)}"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0 0 12px}"
    "dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}"
    ".scene{background:var(--card);border:1px solid var(--line);border-radius:8px;"
    "padding:16px;margin:0 0 16px;display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);"
    "gap:16px}"
    ".scene>h3{grid-column:1/-1}.scene .visual img{width:100%;height:auto;border-radius:6px;"
    "display:block;background:var(--line)}"
    ".cell{margin:0 0 12px}.cell .label{color:var(--muted);font-size:13px;margin:0 0 4px}"
    ".cell p.text{margin:0 0 8px;white-space:pre-wrap}audio{width:100%}"
    "video{display:block;width:100%;max-width:720px;max-height:405px;background:#000}"
    ".fail{border-left:3px solid var(--bad);padding:4px 10px;margin:0 0 8px;"
    "background:var(--card)}.fail .words{white-space:pre-wrap}"
    ".missing{color:var(--muted);font-style:italic}"
    "footer{color:var(--muted);font-size:13px;padding:32px 20px}"
    "@media (max-width:760px){.scene{grid-template-columns:1fr}}";

void html_page_start(struct buf *b, const char *title)
{
    buf_adds(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<meta name=\"generator\" content=\"gemflow " GEMFLOW_VERSION "\">\n<title>");
    html_esc(b, title);
    buf_adds(b, "</title>\n<style>");
    buf_adds(b, style);
    buf_adds(b, "</style>\n</head>\n<body>\n");
}

void html_page_end(struct buf *b)
{
    buf_adds(b, "</body>\n</html>\n");
}

void html_badge(struct buf *b, const char *state)
{
    buf_adds(b, "<span class=\"badge ");
    html_esc(b, state);
    buf_adds(b, "\">");
    html_esc(b, state);
    buf_adds(b, "</span>");
}
