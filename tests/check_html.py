#!/usr/bin/env python3
"""check_html.py - `sipladder html` reports opened in a real browser
(Debian's chromium and chromium-driver, python3-selenium), asserting what a
user sees: the calls, the ladder's rows and frames, the verdict, the detail
of a clicked message, the TLS certificate chain; that a capture whose SIP
strings hold <script>, <img onerror>, javascript: URIs, </script> and
U+2028 runs nothing and shows them as text; that the page makes no network
request and logs no error; that a `sipladder json` file opens in the viewer
and a file of another schema is refused with a message.

Usage: check_html.py --sipladder PATH [--testdata DIR] [--update-screenshot PNG]
       check_html.py --sipladder PATH --bench CAPTURE
Exit 77 (meson: skipped) when selenium, chromium or chromedriver is missing
and SL_REQUIRE_BROWSER is not set."""
import argparse
import base64
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    # Debian's python3-selenium is for Debian's python3; a python3 of pyenv
    # or a venv first on PATH does not see it.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    webdriver = None

FAILED = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILED.append(what)


def find_browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    return chromium, driver


def new_driver(chromium, driver_path, download_dir):
    o = webdriver.ChromeOptions()
    o.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,860", "--force-device-scale-factor=1", "--disable-background-networking",
              "--no-first-run", "--disable-extensions", "--disable-sync", "--disable-component-update"):
        o.add_argument(a)
    o.add_experimental_option("prefs", {"download.default_directory": download_dir})
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=Service(driver_path), options=o)
    # Before any script of the page: record CSP violations and dialogs
    # (an injected payload would call alert or set window.pwned).
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', function (e) {
            window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
        });
        window.__dialogs = [];
        window.alert = window.confirm = window.prompt = function (m) { window.__dialogs.push(String(m)); };
    """})
    return d


def report(sipladder, capture, out):
    # Run from testdata/ so that the page names the capture as scenarios/...,
    # not by a path of this machine.
    root = os.path.dirname(os.path.dirname(os.path.abspath(capture)))
    r = subprocess.run([os.path.abspath(sipladder), "html", "-q", os.path.relpath(capture, root), "-o", os.path.abspath(out)],
                       capture_output=True, text=True, cwd=root)
    if r.returncode not in (0, 4):
        raise SystemExit(f"sipladder html {capture}: exit {r.returncode}: {r.stderr}")
    return out


def document(sipladder, capture):
    root = os.path.dirname(os.path.dirname(os.path.abspath(capture)))
    r = subprocess.run([os.path.abspath(sipladder), "json", "-q", os.path.relpath(capture, root)], capture_output=True, text=True, cwd=root)
    return json.loads(r.stdout)


def open_page(d, path):
    d.get_log("performance")  # drop what came before
    d.get_log("browser")
    d.get("file://" + os.path.abspath(path))
    for _ in range(200):  # the analysis is unpacked asynchronously
        if d.execute_script("return window.sipladderReady === true || !document.getElementById('message').hidden"):
            break
        time.sleep(0.05)


def embedded(page):
    """The document inside a report: base64 of gzip of the JSON text."""
    raw = open(page, encoding="utf-8").read()
    start = raw.index('data-encoding="gzip-base64">') + len('data-encoding="gzip-base64">')
    return json.loads(gzip.decompress(base64.b64decode(raw[start:raw.index("</script>", start)])))


def assert_quiet(d, name, page):
    """No request but the page itself, no console error, no CSP violation."""
    page_url = "file://" + os.path.abspath(page)
    requests = []
    for entry in d.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if url != page_url and not url.startswith("blob:"):
                requests.append(url)
    check(not requests, f"{name}: no network request (saw {requests[:3]})")
    errors = [e["message"] for e in d.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    check(not errors, f"{name}: no console error (saw {errors[:3]})")
    csp = d.execute_script("return window.__csp")
    check(csp == [], f"{name}: no CSP violation (saw {csp})")
    dialogs = d.execute_script("return window.__dialogs")
    check(dialogs == [], f"{name}: no alert/confirm/prompt (saw {dialogs})")


def ladder_rows(d):
    return d.execute_script("""
        return Array.from(document.querySelectorAll('#ladder g.row')).map(function (g) {
            return {frame: Number(g.getAttribute('data-frame')), text: g.querySelector('.msg').textContent,
                    evidence: g.classList.contains('evidence')};
        });""")


def click_ladder_frame(d, frame, text=None):
    for g in d.find_elements(By.CSS_SELECTOR, "#ladder g.row"):
        if int(g.get_attribute("data-frame")) == frame and (text is None or text in g.text):
            d.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
                             g.find_element(By.CSS_SELECTOR, ".row-bg"))
            return True
    return False


def test_486(d, sipladder, testdata, tmp, screenshot):
    cap = os.path.join(testdata, "scenarios", "sip.response.486.pcap")
    page = report(sipladder, cap, os.path.join(tmp, "486.html"))
    doc = document(sipladder, cap)
    check(embedded(page) == doc, "486: the page holds the json command's document")
    open_page(d, page)
    check(d.find_element(By.ID, "call-count").text == "1 of 1 calls", "486: the list says 1 of 1 calls")
    rows = d.find_elements(By.CSS_SELECTOR, "#call-list .grid-row")
    check(len(rows) == 1, f"486: one call row (saw {len(rows)})")
    cells = [c.text for c in rows[0].find_elements(By.TAG_NAME, "span")]
    check(cells[1:5] == ["sip:alice@cucm.example.org", "sip:bob@example.com", "rejected", "sip.response.486"] or
          (cells[3] == "rejected" and cells[4] == "sip.response.486"), f"486: row caller/callee/outcome/verdict {cells}")
    check(cells[6] == "2", f"486: 2 hops (saw {cells[6]})")
    code = d.find_element(By.CSS_SELECTOR, "#call-detail .verdict .code").text
    check(code == "sip.response.486", f"486: verdict code shown ({code})")
    summary = d.find_element(By.CSS_SELECTOR, "#call-detail .verdict .summary").text
    check(summary == doc["diagnoses"][0]["summary"], "486: the verdict's summary as in the JSON")
    lr = ladder_rows(d)
    sip_frames = sorted(m["frame"] for m in doc["calls"][0]["messages"])
    check([r["frame"] for r in lr if not r["text"].startswith(("TCP", "TLS"))] == sip_frames,
          f"486: a ladder row per SIP message of the call, in frame order ({[r['frame'] for r in lr]})")
    check(any(r["text"] == "TCP SYN" for r in lr) and any(r["text"] == "TCP FIN" for r in lr),
          "486: TCP SYN and FIN rows in the ladder")
    busy = [r["frame"] for r in lr if r["text"].startswith("486 Busy Here")]
    check(busy == [15, 17], f"486: the 486 rows are frames 15 and 17 ({busy})")
    ev = sorted(r["frame"] for r in lr if r["evidence"])
    check(ev == sorted(doc["diagnoses"][0]["evidence"]), f"486: the evidence frames highlighted ({ev})")
    rejecter = [t.text for t in d.find_elements(By.CSS_SELECTOR, "#ladder .host-label.rejecter")]
    check(len(rejecter) == 1, f"486: one host column marked as the rejecter ({rejecter})")
    cols = [t.text for t in d.find_elements(By.CSS_SELECTOR, "#ladder .host-label")]
    check(len(cols) == 4, f"486: four host columns ({cols})")
    check(click_ladder_frame(d, 17), "486: frame 17 is a row to click")
    detail = d.find_element(By.CSS_SELECTOR, "#detail pre.message-text").text
    check(detail.startswith("SIP/2.0 486 Busy Here"), "486: the clicked message's first line in the detail")
    msg17 = next(m for m in doc["calls"][0]["messages"] if m["frame"] == 17)
    for h in msg17["headers"]:
        check(f"{h['name']}: {h['value']}" in detail, f"486: header {h['name']} in the detail")
    check("Frame 17" in d.find_element(By.CSS_SELECTOR, "#detail h3").text, "486: the detail names frame 17")
    # Copy frame number: the clipboard holds "17".
    d.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    d.find_element(By.CSS_SELECTOR, "#detail h3 button").click()
    d.set_script_timeout(5)
    copied = d.execute_async_script("""const done = arguments[arguments.length - 1];
        navigator.clipboard.readText().then(done, function (e) { done('error: ' + e); });""")
    check(copied == "17", f"486: Copy frame number puts 17 on the clipboard ({copied!r})")
    # Keyboard: the ladder has focus after an evidence button; ArrowUp moves to the row before.
    d.find_element(By.CSS_SELECTOR, ".frames button").click()
    check("Frame 4" in d.find_element(By.CSS_SELECTOR, "#detail h3").text, "486: an evidence button selects its frame")
    d.find_element(By.ID, "ladder").send_keys(Keys.ARROW_DOWN)
    check("Frame 6" in d.find_element(By.CSS_SELECTOR, "#detail h3").text, "486: ArrowDown in the ladder selects the next row")
    if click_ladder_frame(d, 4):
        sdp = d.find_elements(By.CSS_SELECTOR, "#detail table.plain")
        check(bool(sdp) and "PCMU" in sdp[0].text or "audio" in (sdp[0].text if sdp else ""), "486: the INVITE's SDP decoded")
    if screenshot:
        click_ladder_frame(d, 17)
        d.execute_script("document.getElementById('call-detail').scrollTop = 0")
        time.sleep(0.3)  # a frame painted after the scroll
        d.save_screenshot(screenshot)
        try:  # a palette PNG is a third of the size, for the README
            from PIL import Image
            Image.open(screenshot).convert("RGB").quantize(colors=64).save(screenshot, optimize=True)
        except ImportError:
            pass
        print(f"screenshot written to {screenshot}")
    # Export: the ladder as an SVG file and a PNG file, made in the page (blob:), no request.
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": tmp})
    for label, name, check_file in (
            ("Export SVG", "Call_1.svg", lambda b: b"486 Busy Here" in b and b.lstrip().startswith(b"<svg")),
            ("Export PNG", "Call_1.png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n") and len(b) > 2000)):
        path = os.path.join(tmp, name)
        next(b for b in d.find_elements(By.CSS_SELECTOR, "#call-detail button") if b.text == label).click()
        for _ in range(100):
            if os.path.exists(path) and os.path.getsize(path) > 0:
                break
            time.sleep(0.05)
        time.sleep(0.1)
        data = open(path, "rb").read() if os.path.exists(path) else b""
        check(check_file(data), f"486: {label} downloads {name} ({len(data)} bytes)")
    # Print: the selected call's verdict and ladder, without the list and the buttons.
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    shown = d.execute_script("""return ['.pane-list', 'nav#tabs', '#ladder', '#call-detail .verdict'].map(function (q) {
        const e = document.querySelector(q); return e ? getComputedStyle(e).display !== 'none' : null; })""")
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    check(shown == [False, False, True, True], f"486: print shows the verdict and ladder, not the list ({shown})")
    # Theme and tabs by keyboard.
    body = d.find_element(By.TAG_NAME, "body")
    before = d.execute_script("return document.documentElement.dataset.theme")
    body.send_keys("t")
    after = d.execute_script("return document.documentElement.dataset.theme")
    check(before != after and after in ("dark", "light"), f"486: 't' switches the theme ({before} -> {after})")
    body.send_keys("4")
    check(len(d.find_elements(By.CSS_SELECTOR, "main .verdict")) == 1, "486: '4' shows the verdicts tab")
    body.send_keys("t")
    assert_quiet(d, "486", page)


def test_tls(d, sipladder, testdata, tmp):
    cap = os.path.join(testdata, "lifecycle", "tls-closed-after-handshake.pcap")
    page = report(sipladder, cap, os.path.join(tmp, "tls.html"))
    doc = document(sipladder, cap)
    open_page(d, page)
    check(d.execute_script("return document.querySelector('[role=tab][aria-selected=true]').dataset.tab") == "connections",
          "tls: a capture without calls opens on its connections")
    codes = [e.text for e in d.find_elements(By.CSS_SELECTOR, ".verdict .code")]
    check("tls.closed_after_handshake" in codes, f"tls: the verdict shown ({codes})")
    lr = ladder_rows(d)
    texts = [r["text"] for r in lr]
    check(texts[:2] == ["TCP SYN", "TCP SYN-ACK"], f"tls: the ladder starts with the TCP handshake ({texts[:3]})")
    check("TLS ClientHello" in texts and "TLS ServerHello" in texts, "tls: ClientHello and ServerHello rows")
    conn = doc["connections"][0]
    hello = next(h for h in conn["tls"]["handshake"] if h["name"] == "ClientHello")
    check(click_ladder_frame(d, hello["frame"], "ClientHello"), "tls: the ClientHello row clicks")
    det = d.find_element(By.ID, "detail").text
    chain = conn["tls"]["certificates"]["server"]
    if chain:
        check("Certificate chain of the server" in det, "tls: the server's certificate chain in the detail")
        cn = chain["certificates"][0]["subject_cn"]
        check(cn in det, f"tls: the leaf's subject CN {cn} in the detail")
        check(chain["certificates"][0]["sha256"] in det, "tls: the leaf's SHA-256 in the detail")
    assert_quiet(d, "tls", page)


def test_hostile(d, sipladder, testdata, tmp):
    cap = os.path.join(testdata, "web", "hostile-web.pcap")
    page = report(sipladder, cap, os.path.join(tmp, "hostile.html"))
    raw = open(page, encoding="utf-8").read()
    check(raw.count("</script") == 2, "hostile: the page holds only its own two </script>")
    check("<!--" not in raw and "\u2028" not in raw and "\u2029" not in raw, "hostile: no <!--, U+2028, U+2029 in the page")
    doc = document(sipladder, cap)
    check(embedded(page) == doc, "hostile: the page holds the json command's document, strings intact")
    open_page(d, page)
    time.sleep(0.2)
    check(d.execute_script("return window.pwned") is None, "hostile: no payload ran (window.pwned unset)")
    check(not d.find_elements(By.CSS_SELECTOR, "main img, main script, main iframe, main a[href]"),
          "hostile: no img, script, iframe or link made from the data")
    row = d.find_element(By.CSS_SELECTOR, "#call-list .grid-row span:nth-child(2)")
    check(row.text == "sip:alice@example.com", f"hostile: caller shown ({row.text})")
    check(click_ladder_frame(d, 1), "hostile: the INVITE row clicks")
    detail = d.execute_script("return document.querySelector('#detail pre.message-text').textContent")
    invite = doc["calls"][0]["messages"][0]
    for h in invite["headers"]:
        check(f"{h['name']}: {h['value']}\n" in detail, f"hostile: header {h['name']} shown as sent")
    check("<script>window.pwned='script'</script>" in detail and "\u2028" in detail and "javascript:" in detail,
          "hostile: <script>, javascript: and U+2028 appear as text")
    sdp = d.find_element(By.ID, "detail").text
    check("audio" in sdp, "hostile: the SDP still decoded")
    check(click_ladder_frame(d, 2), "hostile: the 486 row clicks")
    first = d.execute_script("return document.querySelector('#detail pre.message-text').textContent.split('\\n')[0]")
    check(first == "SIP/2.0 486 Busy </script><script>window.pwned='close'</script><!--", f"hostile: the reason phrase as sent ({first!r})")
    labels = d.execute_script("return Array.from(document.querySelectorAll('#ladder text')).map(function (t) { return t.textContent; }).join('|')")
    check("486 Busy </script>" in labels or "486 Busy </scr" in labels, "hostile: the ladder's label is text")
    # Every tab renders the hostile strings without running them.
    body = d.find_element(By.TAG_NAME, "body")
    for k in "2345":
        body.send_keys(k)
    check(d.execute_script("return window.pwned") is None, "hostile: nothing ran on any tab")
    assert_quiet(d, "hostile", page)


def test_open_json(d, sipladder, testdata, tmp):
    cap = os.path.join(testdata, "scenarios", "sip.response.486.pcap")
    empty = os.path.join(tmp, "viewer.html")
    viewer = os.path.join(os.path.dirname(sipladder), "sipladder-viewer.html")
    page = viewer if os.path.exists(viewer) else report(sipladder, os.path.join(testdata, "web", "hostile-web.pcap"), empty)
    good = os.path.join(tmp, "good.json")
    subprocess.run([sipladder, "json", "-q", cap, "-o", good], check=True)
    bad = os.path.join(tmp, "other.json")
    with open(bad, "w") as f:
        json.dump({"schema": "sipladder/99", "calls": []}, f)
    notjson = os.path.join(tmp, "broken.json")
    with open(notjson, "w") as f:
        f.write("{\"schema\": \"sipladder/1\", ")
    open_page(d, page)
    inp = d.find_element(By.ID, "open-file")
    inp.send_keys(good)
    time.sleep(0.3)
    check(d.find_element(By.ID, "call-count").text == "1 of 1 calls", "open: a sipladder json file loads")
    check("sip.response.486.pcap" in d.find_element(By.ID, "capture-info").text, "open: its capture named in the header")
    inp = d.find_element(By.ID, "open-file")
    inp.send_keys(bad)
    time.sleep(0.3)
    msg = d.find_element(By.ID, "message")
    check(msg.is_displayed() and "sipladder/1" in msg.text and "sipladder/99" in msg.text,
          f"open: another schema is refused, naming both ({msg.text[:80]!r})")
    check(d.find_element(By.ID, "call-count").text == "1 of 1 calls", "open: the refused file leaves the report shown")
    d.find_element(By.ID, "open-file").send_keys(notjson)
    time.sleep(0.3)
    check("cannot read it as JSON" in d.find_element(By.ID, "message").text, "open: a broken file says it is not JSON")
    # A firewall comparison (sipladder compare --format json) opens as one.
    fw = os.path.join(testdata, "firewall")
    cmp_json = os.path.join(tmp, "compare.json")
    with open(cmp_json, "w") as f:
        subprocess.run([sipladder, "compare", "-q", "--format", "json", os.path.join(fw, "idle-timeout-inside.pcap"),
                        os.path.join(fw, "idle-timeout-outside.pcap")], stdout=f, check=True)
    cdoc = json.load(open(cmp_json))["compare"]
    d.find_element(By.ID, "open-file").send_keys(cmp_json)
    time.sleep(0.3)
    codes = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#compare .verdict .code")]
    check(codes == [v["code"] for v in cdoc["verdicts"]], f"open: a compare document shows its verdicts ({codes})")
    check(cdoc["verdicts"][0]["summary"] in d.find_element(By.ID, "compare").text, "open: the compare verdict's summary shown")
    errors = [e["message"] for e in d.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    check(not errors, f"open: no console error (saw {errors[:3]})")


def bench(d, sipladder, capture, tmp):
    """The numbers of issue 19's closing note: the report's size and time to
    write, and the page's time to its first paint with the list drawn."""
    page = os.path.join(tmp, "bench.html")
    t = time.time()
    report(sipladder, capture, page)
    made = time.time() - t
    t = time.time()
    d.get("file://" + page)
    while not d.execute_script("return window.sipladderReady === true"):
        time.sleep(0.02)
    ready = time.time() - t
    p = d.execute_script("""return Object.assign({rows: document.querySelectorAll('#call-list .grid-row').length,
        calls: document.getElementById('call-count').textContent,
        dom_content_loaded_ms: performance.timing.domContentLoadedEventEnd - performance.timing.navigationStart},
        window.sipladderTimings)""")
    scroll = d.execute_script("""const s = document.getElementById('call-list'); const t0 = performance.now(); let n = 0;
        for (let y = 0; y < s.scrollHeight; y += s.clientHeight) { s.scrollTop = y; s.dispatchEvent(new Event('scroll')); n++; }
        return [n, (performance.now() - t0) / n];""")
    print(f"{capture}: report {os.path.getsize(page) / 1e6:.1f} MB written in {made:.2f} s; "
          f"page ready (list and first call drawn) {ready:.2f} s after the load began; {p}; "
          f"{scroll[0]} pages of the list scrolled, {scroll[1]:.1f} ms each")


def test_many(d, sipladder, testdata, tmp):
    """Every scenario capture merged into one report: the list, its search,
    filters and keyboard."""
    import glob
    caps = sorted(glob.glob(os.path.join(testdata, "scenarios", "*.pcap")))
    page = os.path.join(tmp, "many.html")
    r = subprocess.run([sipladder, "html", "-q", *caps, "-o", page], capture_output=True, text=True)
    check(r.returncode in (0, 4), f"many: sipladder html of {len(caps)} captures ({r.stderr[:200]})")
    doc = embedded(page)
    n = len(doc["calls"])
    open_page(d, page)
    check(d.find_element(By.ID, "call-count").text == f"{n} of {n} calls", f"many: the list says {n} of {n} calls")
    # The verdict filter: the calls with that verdict, or one of their connections'.
    code = "sip.response.486"
    want = {v["call"] for v in doc["diagnoses"] if v["code"] == code and v["call"] is not None}
    conns = {v["connection"] for v in doc["diagnoses"] if v["code"] == code and v["connection"] is not None}
    want |= {c["id"] for c in doc["calls"] if conns & set(c["connections"])}
    sel = d.find_element(By.ID, "filter-verdict")
    d.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", sel, code)
    check(d.find_element(By.ID, "call-count").text == f"{len(want)} of {n} calls", f"many: verdict filter {code}: {len(want)} calls")
    ids = [int(x.text) for x in d.find_elements(By.CSS_SELECTOR, "#call-list .grid-row span:first-child")]
    check(set(ids) == want, f"many: the filtered rows are those calls ({ids} vs {sorted(want)})")
    d.execute_script("arguments[0].value = ''; arguments[0].dispatchEvent(new Event('change'))", sel)
    # Search by a Call-ID: the calls that carry it.
    needle = doc["calls"][-1]["legs"][0]["call_id"]
    want = [c["id"] for c in doc["calls"]
            if needle.lower() in " ".join([c["caller"] or "", c["callee"] or ""] + [l["call_id"] or "" for l in c["legs"]]).lower()]
    q = d.find_element(By.ID, "search")
    q.send_keys(needle)
    ids = [int(x.text) for x in d.find_elements(By.CSS_SELECTOR, "#call-list .grid-row span:first-child")]
    check(sorted(ids) == sorted(want), f"many: searching the Call-ID {needle} lists its calls ({ids} vs {want})")
    q.clear()
    q.send_keys(Keys.ESCAPE)
    d.execute_script("document.getElementById('search').dispatchEvent(new Event('input'))")
    # Time filter: from a date and time (UTC) on; a "to" that is no time is marked and ignored.
    times = sorted(c["first_time"] for c in doc["calls"])
    cut = int(times[len(times) // 2])
    want = sorted(c["id"] for c in doc["calls"] if c["first_time"] >= cut)
    frm, to = d.find_element(By.ID, "filter-from"), d.find_element(By.ID, "filter-to")
    frm.send_keys(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(cut)))
    to.send_keys("soon")
    ids = sorted(int(x.text) for x in d.find_elements(By.CSS_SELECTOR, "#call-list .grid-row span:first-child"))
    check(ids == want and "bad" in to.get_attribute("class"),
          f"many: from {time.strftime('%H:%M:%S', time.gmtime(cut))} lists the calls that began then or later ({ids} vs {want})")
    for e in (frm, to):
        e.clear()
        d.execute_script("arguments[0].dispatchEvent(new Event('input'))", e)
    check(d.find_element(By.ID, "call-count").text == f"{n} of {n} calls", "many: cleared time filters list every call")
    # Keyboard: j moves to the next call and shows it.
    first = d.find_element(By.CSS_SELECTOR, "#call-detail h2").text
    d.find_element(By.TAG_NAME, "body").send_keys("j")
    sel_rows = d.find_elements(By.CSS_SELECTOR, "#call-list .grid-row.selected")
    second = d.find_element(By.CSS_SELECTOR, "#call-detail h2").text
    check(len(sel_rows) == 1 and sel_rows[0].get_attribute("data-index") == "1" and second != first,
          f"many: 'j' selects the second call ({first!r} -> {second!r})")
    d.find_element(By.TAG_NAME, "body").send_keys("2")
    orphans = [c for c in doc["connections"] if not any(c["index"] in k["connections"] for k in doc["calls"])]
    check(f"{len(orphans)} connections that belong to no call" in d.find_element(By.ID, "main").text,
          f"many: '2' lists the {len(orphans)} connections of no call")
    before = d.find_element(By.CSS_SELECTOR, "main .pane-detail h2").text
    d.find_element(By.TAG_NAME, "body").send_keys("j")
    after = d.find_element(By.CSS_SELECTOR, "main .pane-detail h2").text
    check(before.startswith("Connection #") and after != before, f"many: 'j' moves to the next connection ({before!r} -> {after!r})")
    assert_quiet(d, "many", page)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipladder", required=True)
    ap.add_argument("--testdata", default=os.path.join(HERE, "..", "testdata"))
    ap.add_argument("--update-screenshot", metavar="PNG")
    ap.add_argument("--bench", metavar="CAPTURE", help="only measure the report of CAPTURE (e.g. bench/gen's 1800 calls)")
    a = ap.parse_args()
    chromium, driver_path = find_browser()
    missing = [n for n, v in (("python3-selenium", webdriver), ("chromium", chromium), ("chromium-driver", driver_path)) if not v]
    if missing:
        print("check_html: missing " + ", ".join(missing) + " (scripts/setup installs them)")
        sys.exit(1 if os.environ.get("SL_REQUIRE_BROWSER") else 77)
    tmp = tempfile.mkdtemp(prefix="sl-html-")
    d = new_driver(chromium, driver_path, tmp)
    try:
        if a.bench:
            bench(d, a.sipladder, a.bench, tmp)
            return
        t = time.time()
        for name, fn, extra in (("486", test_486, (a.update_screenshot,)), ("tls", test_tls, ()),
                                ("hostile", test_hostile, ()), ("many", test_many, ()), ("open", test_open_json, ())):
            try:
                fn(d, a.sipladder, a.testdata, tmp, *extra)
            except Exception as e:  # an element the page should have shown is missing
                check(False, f"{name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        print(f"browser checks took {time.time() - t:.1f} s")
    finally:
        d.quit()
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(FAILED)
    print(f"{n} failed" if n else "all browser checks passed")
    sys.exit(1 if n else 0)


if __name__ == "__main__":
    main()
