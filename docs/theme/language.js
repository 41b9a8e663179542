// A link in the top bar to the same page in the other edition: English (docs/book/) ⇄ 中文
// (docs/book/zh-CN/). mdBook sets `path_to_root` on every page; the page's own path is the last
// (depth + 1) parts of the address, where depth is the number of "../" in path_to_root.
(function () {
    "use strict";
    var bar = document.querySelector(".right-buttons");
    if (!bar || typeof path_to_root === "undefined") {
        return;
    }
    var chinese = document.documentElement.lang === "zh-CN";
    var depth = (path_to_root.match(/\.\.\//g) || []).length;
    var parts = window.location.pathname.split("/");
    var page = parts.slice(parts.length - depth - 1).join("/") || "index.html";
    var target = chinese ? path_to_root + "../" + page : path_to_root + "zh-CN/" + page;
    var link = document.createElement("a");
    link.href = target + window.location.hash;
    link.textContent = chinese ? "English" : "中文";
    link.title = chinese ? "Read this page in English" : "阅读本页的中文版";
    link.setAttribute("lang", chinese ? "en" : "zh-CN");
    link.style.fontSize = "1.4rem";
    link.style.marginInlineEnd = "0.6rem";
    link.style.verticalAlign = "middle";
    bar.insertBefore(link, bar.firstChild);
})();
