import { describe, expect, it } from "vitest";
import { decodeEntities, parseForms } from "../../../dev/platform/html-form.js";

const PAGE = "http://localhost:8790/mod/lti/auth.php?x=1";

describe("the driver's form parser", () => {
  it("reads a Moodle-style auto-submit form", () => {
    const html = `<form action="http://127.0.0.1:8787/lti/launch" name="ltiAuthForm" id="ltiAuthForm" method="post" enctype="application/x-www-form-urlencoded">
  <input type="hidden" name="id_token" value="a.b.c"/>
  <input type="hidden" name="state" value="s1"/>
</form>
<script type="text/javascript">
//<![CDATA[
document.ltiAuthForm.submit();
//]]>
</script>`;
    expect(parseForms(html, PAGE)).toEqual([
      {
        action: "http://127.0.0.1:8787/lti/launch",
        method: "post",
        id: "ltiAuthForm",
        name: "ltiAuthForm",
        fields: [
          ["id_token", "a.b.c"],
          ["state", "s1"],
        ],
      },
    ]);
  });

  it("decodes entities in attributes: named, decimal, hex, and legacy ones without ;", () => {
    const html = `<form method=post action="/launch?a=1&amp;b=2">
      <input type=hidden name="title" value="Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#39;single&#39; &#x2F;slash &apos;x&apos;">
      <input type=hidden name="welsh" value="Cymraeg: &#x175; &#373; &nbsp;!">
      <input type=hidden name="legacy" value="a &amp b &lt c">
      <input type=hidden name="url" value="https://x.test/?a=1&copy=2&amp;c=3">
      <input type=hidden name="unknown" value="&bogus; &#0;">
    </form>`;
    const [form] = parseForms(html, PAGE);
    expect(form?.action).toBe("http://localhost:8790/launch?a=1&b=2");
    expect(form?.fields).toEqual([
      ["title", `Tom & Jerry <3 "quoted" 'single' /slash 'x'`],
      ["welsh", "Cymraeg: ŵ ŵ \u00a0!"],
      ["legacy", "a & b < c"],
      ["url", "https://x.test/?a=1&copy=2&c=3"],
      ["unknown", "&bogus; \ufffd"],
    ]);
  });

  it("accepts any attribute order, single quotes, no quotes, upper case and newlines", () => {
    const html = `<FORM
        METHOD='POST' id=f1
        ACTION='https://tool.test/login'>
      <INPUT VALUE='v "1"' NAME='first' TYPE='HIDDEN' />
      <input
        value=plain
        type=hidden
        name=second>
      <input name="third" value="" type="hidden">
      <input type="hidden" name='fourth' value='it&#39;s'>
    </FORM>`;
    const [form] = parseForms(html, PAGE);
    expect(form?.method).toBe("post");
    expect(form?.action).toBe("https://tool.test/login");
    expect(form?.fields).toEqual([
      ["first", 'v "1"'],
      ["second", "plain"],
      ["third", ""],
      ["fourth", "it's"],
    ]);
  });

  it("ignores markup inside comments, scripts and textareas, and '>' inside quoted values", () => {
    const html = `<!-- <form action="/decoy"><input name="decoy" value="1"></form> -->
      <script>var s = '<form action="/js-decoy"><input name=x value=y></form>';</script>
      <form action="/real" method="post">
        <input type="hidden" name="arrow" value="a > b">
        <textarea name="notes">&lt;p&gt; <input name="inside" value="no"></textarea>
      </form>`;
    const forms = parseForms(html, PAGE);
    expect(forms).toHaveLength(1);
    expect(forms[0]?.action).toBe("http://localhost:8790/real");
    expect(forms[0]?.fields).toEqual([
      ["arrow", "a > b"],
      ["notes", '<p> <input name="inside" value="no">'],
    ]);
  });

  it("submits what a browser submits: no buttons, disabled or unchecked controls, nor nameless inputs", () => {
    const html = `<form action="/x" method="post">
      <input type="submit" name="go" value="Go">
      <button type="submit" name="b" value="1">B</button>
      <input type="hidden" name="off" value="1" disabled>
      <input type="checkbox" name="c1" value="yes" checked>
      <input type="checkbox" name="c2" value="no">
      <input type="hidden" value="nameless">
      <input type="text" name="t" value="typed">
      <input type="hidden" name="dup" value="1"><input type="hidden" name="dup" value="2">
    </form>`;
    expect(parseForms(html, PAGE)[0]?.fields).toEqual([
      ["c1", "yes"],
      ["t", "typed"],
      ["dup", "1"],
      ["dup", "2"],
    ]);
  });

  it("defaults to GET and to the page's own URL, and reads several forms in order", () => {
    const html = `<form><input type=hidden name=a value=1></form><form action="next" method="POST"></form>`;
    const forms = parseForms(html, PAGE);
    expect(forms.map((f) => [f.method, f.action])).toEqual([
      ["get", PAGE],
      ["post", "http://localhost:8790/mod/lti/next"],
    ]);
  });

  it("decodes text outside attributes too", () => {
    expect(decodeEntities("&lt;b&gt; &amp;amp; &#x1F600;")).toBe("<b> &amp; \u{1F600}");
  });
});
