"""Optional article text: fetch the page of an item that passed the BHXH prefilter and extract its
main text with trafilatura (``collect.fetch_article_text``, off by default). Pages come through the
same guarded ``Fetcher`` as feeds (limits, SSRF checks); failures leave the item as it was."""

from __future__ import annotations

import asyncio
import logging

import trafilatura

from monitor.fetch import Fetcher
from monitor.normalize import clean_text

log = logging.getLogger(__name__)
MAX_CHARS = 50_000


def extract_text(page: bytes, url: str) -> str | None:
    """The article's main text, or None when trafilatura finds none."""
    try:
        text = trafilatura.extract(page, url=url, include_comments=False, include_tables=False, favor_precision=True)
    except Exception as exc:  # trafilatura on hostile HTML: never let one page stop the pass
        log.warning("article: extraction failed", extra={"url": url, "error": f"{type(exc).__name__}: {exc}"})
        return None
    text = clean_text(text)
    return text[:MAX_CHARS] or None


async def fetch_texts(fetcher: Fetcher, urls: list[str]) -> dict[str, str]:
    """Article text by URL for the pages that could be fetched and extracted."""

    async def one(url: str) -> tuple[str, str | None]:
        result = await fetcher.fetch(url)
        if result.outcome != "ok" or not result.documents:
            log.info("article: not fetched", extra={"url": url, "error": result.error})
            return url, None
        return url, await asyncio.to_thread(extract_text, result.documents[0].body, url)

    pairs = await asyncio.gather(*(one(u) for u in dict.fromkeys(urls)))
    return {url: text for url, text in pairs if text}
