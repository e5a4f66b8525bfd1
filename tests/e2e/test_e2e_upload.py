"""A customer uploads a receipt in the real chat page (issue 15, item 2): the paperclip below the widget posts the file
with the page's session token, the widget sends the upload into the conversation, and the bot acknowledges it and
moves on.  A real headless Chromium against the same processes ``make run`` starts."""

from __future__ import annotations

from datetime import date, timedelta

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.test_e2e_webchat import REPLY_TIMEOUT, bot_replies, customer_messages, save_screenshot, type_message

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 300


def says(driver, text: str, expect: str | None = None) -> None:
    before = len(bot_replies(driver))
    type_message(driver, text)
    WebDriverWait(driver, REPLY_TIMEOUT).until(lambda d: len(bot_replies(d)) > before)
    if expect:
        WebDriverWait(driver, REPLY_TIMEOUT).until(lambda d: any(expect in r for r in bot_replies(d)[before:]))


def test_a_receipt_uploaded_with_the_paperclip_is_received(chat_page, browser, tmp_path):
    receipt = tmp_path / "receipt.png"
    receipt.write_bytes(PNG)
    browser.get(chat_page)
    WebDriverWait(browser, REPLY_TIMEOUT).until(lambda d: bot_replies(d))

    says(browser, "/bought_elsewhere", "Where did you buy it")
    says(browser, "Best Buy", "Which product")
    says(browser, "Anker 737 Power Bank", "When did you buy it")
    says(browser, (date.today() - timedelta(days=45)).strftime("%d %B %Y"), "How much")
    says(browser, "149.99", "serial number")
    says(browser, "A1289X0000012345", "wrong with it")
    says(browser, "it no longer charges my phone", "troubleshooting")
    says(browser, "yes", "receipt")

    before = len(bot_replies(browser))
    browser.find_element(By.CSS_SELECTOR, "input#chat-upload").send_keys(str(receipt))
    try:
        WebDriverWait(browser, REPLY_TIMEOUT).until(
            lambda d: any("received your receipt" in r for r in bot_replies(d)[before:])
        )
    except TimeoutException as timeout:  # say what the page showed
        status = browser.find_element(By.CSS_SELECTOR, ".upload-status").text
        raise AssertionError(f"upload status {status!r}; replies {bot_replies(browser)[before:]}") from timeout
    WebDriverWait(browser, REPLY_TIMEOUT).until(
        lambda d: any("photo of the defect" in r for r in bot_replies(d)[before:])
    )
    assert customer_messages(browser)[-1] == "\U0001f4ce receipt.png"
    assert browser.find_element(By.CSS_SELECTOR, ".upload-status").text == ""
    save_screenshot(browser, "upload")
