"""Make a copy of asv's published pages that works without internet access.

asv publish writes pages that load jQuery, flot, bootstrap and md5 from CDNs; on a
machine with no internet they show "Can not determine continental origin of
swallow".  This copies asv_bench/html and points those scripts at Debian's packaged
copies (flot 4 stands in for flot 0.8: graphs draw, the legend box renders dark):

    apt-get install -y libjs-jquery libjs-jquery-flot libjs-bootstrap node-blueimp-md5
    python tools/asv_offline_html.py asv_bench/html /tmp/asv-html
    python -m http.server 8080 --bind 127.0.0.1 -d /tmp/asv-html
"""
import os
import re
import shutil
import sys

JS = "/usr/share/javascript/"
VENDOR = {
    "jquery.js": JS + "jquery/jquery.min.js",
    "flot.js": JS + "jquery-flot/jquery.flot.pack.js",
    "flot.selection.js": JS + "jquery-flot/jquery.flot.selection.js",
    "flot.categories.js": JS + "jquery-flot/jquery.flot.categories.js",
    "md5.js": JS + "blueimp-md5/md5.min.js",
    "bootstrap.js": JS + "bootstrap/js/bootstrap.min.js",
    "bootstrap.css": JS + "bootstrap/css/bootstrap.min.css",
}
# CDN script name -> local file (None: dropped, flot 4's pack already has it / not needed)
SCRIPTS = {
    "jquery-3.3.1.min.js": "jquery.js",
    "jquery.flot.min.js": "flot.js",
    "jquery.flot.time.min.js": None,
    "jquery.flot.selection.min.js": "flot.selection.js",
    "jquery.flot.categories.min.js": "flot.categories.js",
    "jquery.flot.orderBars.js": None,
    "stupidtable.min.js": "shim.js",
    "md5.min.js": "md5.js",
    "bootstrap.min.js": "bootstrap.js",
}


def main(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    vendor = os.path.join(dst, "vendor")
    os.makedirs(vendor)
    for name, path in VENDOR.items():
        shutil.copy(path, os.path.join(vendor, name))
    with open(os.path.join(vendor, "shim.js"), "w") as f:   # table sorting: a no-op
        f.write("if (!$.fn.stupidtable) { $.fn.stupidtable = function () { return this; }; }\n")
    for name in os.listdir(dst):
        if not name.endswith(".html"):
            continue
        path = os.path.join(dst, name)
        with open(path) as f:
            page = f.read()
        for cdn, local in SCRIPTS.items():
            tag = re.compile(r'<script src="https://[^"]*/' + re.escape(cdn) + r'"[^>]*>\s*</script>')
            page = tag.sub("" if local is None else f'<script src="vendor/{local}"></script>', page)
        page = re.sub(r'<link rel="stylesheet" href="https://[^"]*bootstrap\.min\.css"[^>]*>',
                      '<link rel="stylesheet" href="vendor/bootstrap.css">', page)
        with open(path, "w") as f:
            f.write(page)
    print(f"offline copy of {src} in {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
