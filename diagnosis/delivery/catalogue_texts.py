"""The status-code catalogue's texts, for translators (generated: do not edit by hand).

diagnosis/data/status_codes.csv stays the English source of truth: a migration loads it
into `StatusCode`, and the database keeps the English `summary` and `advice`. This module
lists every summary and advice of the CSV wrapped in `gettext_noop`, each with a
"Translators: status code XXX" comment, only so that `makemessages` extracts them and a
translator sees each text next to its code in the .po file. Nothing translates here: the
pages translate the stored English text when they show it (`StatusCode.translated_summary`
and `translated_advice` call gettext in the request's language), so a code's meaning is
never frozen in one language in the database.

After changing the CSV, regenerate this module:

    python -m diagnosis.delivery.catalogue_texts

tests/diagnosis/delivery/test_catalogue_texts.py fails while it is out of date.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path


def gettext_noop(message: str) -> str:
    """Django's gettext_noop (a marker for makemessages), without needing settings to import."""
    return message


CATALOGUE_FILE = Path(__file__).resolve().parent.parent / "data" / "status_codes.csv"
MODULE_FILE = Path(__file__).resolve()
_MARKER = "# --- generated from diagnosis/data/status_codes.csv: everything below ---\n"


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render(path: Path = CATALOGUE_FILE) -> str:
    """The generated part of this module for the CSV at `path`."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    lines = [_MARKER, "# fmt: off\n", "TEXTS: dict[str, tuple[str, str]] = {\n"]
    for row in rows:
        code = row["code"]
        lines.append(f"    {_literal(code)}: (\n")
        for text in (row["summary"], row["advice"]):
            lines.append(f"        # Translators: status code {code}\n")
            lines.append(f"        gettext_noop({_literal(text)}),  # noqa: E501\n")
        lines.append("    ),\n")
    lines.append("}\n# fmt: on\n")
    return "".join(lines)


def current_source(module: Path = MODULE_FILE, catalogue: Path = CATALOGUE_FILE) -> str:
    """This module's source as it should be: the hand-written head, then `render()`."""
    head = module.read_text(encoding="utf-8").split(_MARKER, 1)[0]
    return head + render(catalogue)


def main() -> None:
    source = current_source()
    if MODULE_FILE.read_text(encoding="utf-8") != source:
        MODULE_FILE.write_text(source, encoding="utf-8")
        sys.stdout.write(f"rewrote {MODULE_FILE}\n")


if __name__ == "__main__":
    main()


# --- generated from diagnosis/data/status_codes.csv: everything below ---
# fmt: off
TEXTS: dict[str, tuple[str, str]] = {
    "DELIVRD": (
        # Translators: status code DELIVRD
        gettext_noop("The handset received the message; this is the final success state"),  # noqa: E501
        # Translators: status code DELIVRD
        gettext_noop("Nothing to fix on the platform side. Go through phone-side checks: junk folder, signal, full inbox, restart, or try the SIM in another phone."),  # noqa: E501
    ),
    "ACCEPTD": (
        # Translators: status code ACCEPTD
        gettext_noop("The network took the message in; this is an in-between state, not a result"),  # noqa: E501
        # Translators: status code ACCEPTD
        gettext_noop("No action needed yet. Wait for a final delivery report to arrive for this message."),  # noqa: E501
    ),
    "EXPIRED": (
        # Translators: status code EXPIRED
        gettext_noop("No delivery within the validity window, so the message counts as failed"),  # noqa: E501
        # Translators: status code EXPIRED
        gettext_noop("The phone was likely off or out of coverage for a long time. Check the number is real; if many messages expire, escalate with details."),  # noqa: E501
    ),
    "DELETED": (
        # Translators: status code DELETED
        gettext_noop("The network side removed the message before it was delivered"),  # noqa: E501
        # Translators: status code DELETED
        gettext_noop("The cause is not documented. Note the message ID, number and send time and pass them to the provider's customer service."),  # noqa: E501
    ),
    "UNDELIV": (
        # Translators: status code UNDELIV
        gettext_noop("The message could not be delivered; the report source says who raised it"),  # noqa: E501
        # Translators: status code UNDELIV
        gettext_noop("Call the number to see if it is live and active, and drop dead numbers. If the number works, escalate with the message details."),  # noqa: E501
    ),
    "UNKNOWN": (
        # Translators: status code UNKNOWN
        gettext_noop("The final delivery state of the message could not be determined"),  # noqa: E501
        # Translators: status code UNKNOWN
        gettext_noop("Collect the message ID (smsMsgId), recipient number and send time, then escalate to the provider's customer service."),  # noqa: E501
    ),
    "REJECTD": (
        # Translators: status code REJECTD
        gettext_noop("The network refused the message, e.g. after an unsubscribe or with SMS off"),  # noqa: E501
        # Translators: status code REJECTD
        gettext_noop("Try a different number to compare. Remove this number from the list, or ask customer service if it really must receive messages."),  # noqa: E501
    ),
    "MILIMIT": (
        # Translators: status code MILIMIT
        gettext_noop("Too many messages went to this number within one minute"),  # noqa: E501
        # Translators: status code MILIMIT
        gettext_noop("The per-minute cap for this number was hit. Wait a minute and resend; ask the provider to review the limit if it seems too strict."),  # noqa: E501
    ),
    "LIMIT": (
        # Translators: status code LIMIT
        gettext_noop("This number has used up its message allowance for today"),  # noqa: E501
        # Translators: status code LIMIT
        gettext_noop("The daily cap for this number was reached. Resend tomorrow, and ask the provider to adjust the limit if the business needs more."),  # noqa: E501
    ),
    "BEYONDN": (
        # Translators: status code BEYONDN
        gettext_noop("Today's send cap for this number is reached (equivalent to LIMIT)"),  # noqa: E501
        # Translators: status code BEYONDN
        gettext_noop("The daily quota for this number is exhausted. Retry the next day, or ask the provider about raising the limit if it looks wrong."),  # noqa: E501
    ),
    "CTLIMIT": (
        # Translators: status code CTLIMIT
        gettext_noop("The frequency cap for sending to this number was reached"),  # noqa: E501
        # Translators: status code CTLIMIT
        gettext_noop("The sending rate limit for this number was hit. Slow down, check the frequency rules, and ask the provider if the cap looks wrong."),  # noqa: E501
    ),
    "UNDELIVE": (
        # Translators: status code UNDELIVE
        gettext_noop("China Mobile failure caused by a per-number frequency cap or a blocklist"),  # noqa: E501
        # Translators: status code UNDELIVE
        gettext_noop("For verification codes, space out sends to this number and retry later. For other content treat it as blocked and contact the carrier or provider."),  # noqa: E501
    ),
    "DB:9007": (
        # Translators: status code DB:9007
        gettext_noop("China Mobile gateway is carrying more traffic than it allows"),  # noqa: E501
        # Translators: status code DB:9007
        gettext_noop("The gateway traffic limit was hit. Lower the sending volume, wait, and check with the provider if the limit looks wrong."),  # noqa: E501
    ),
    "KEYWORD": (
        # Translators: status code KEYWORD
        gettext_noop("A content filter stopped the message because of sensitive words"),  # noqa: E501
        # Translators: status code KEYWORD
        gettext_noop("Review the text and template variables for sensitive terms, rewrite them, and send again."),  # noqa: E501
    ),
    "BLACK": (
        # Translators: status code BLACK
        gettext_noop("The recipient number is on a blocking list"),  # noqa: E501
        # Translators: status code BLACK
        gettext_noop("The number likely unsubscribed or complained. If it genuinely needs the message, ask customer service to take it off the blocklist."),  # noqa: E501
    ),
    "TDBLACK": (
        # Translators: status code TDBLACK
        gettext_noop("The recipient is listed on a blocklist (e.g. after an unsubscribe)"),  # noqa: E501
        # Translators: status code TDBLACK
        gettext_noop("Check whether the user opted out or complained. If delivery is required, request removal from the blocklist via customer service."),  # noqa: E501
    ),
    "TSBLACK": (
        # Translators: status code TSBLACK
        gettext_noop("Blocked: the destination number appears on a blacklist"),  # noqa: E501
        # Translators: status code TSBLACK
        gettext_noop("The user may have opted out or filed a complaint. Ask customer service to lift the block only if the number must receive SMS."),  # noqa: E501
    ),
    "MBBLACK": (
        # Translators: status code MBBLACK
        gettext_noop("The number sits on a blocking list (China Mobile also reports this code)"),  # noqa: E501
        # Translators: status code MBBLACK
        gettext_noop("Ask customer service, or the carrier for China Mobile numbers, to remove the number from the blocklist if it must receive SMS."),  # noqa: E501
    ),
    "DJ:0255": (
        # Translators: status code DJ:0255
        gettext_noop("The carrier intercepted the message, usually because of its content"),  # noqa: E501
        # Translators: status code DJ:0255
        gettext_noop("Check the content and template for anything not allowed, revise it, and contact customer service if the block continues."),  # noqa: E501
    ),
    "MK:1004": (
        # Translators: status code MK:1004
        gettext_noop("China Mobile held the message for review after content keyword checks"),  # noqa: E501
        # Translators: status code MK:1004
        gettext_noop("Look for sensitive keywords in the content and ask customer service or the carrier about the review."),  # noqa: E501
    ),
    "SUPERWD": (
        # Translators: status code SUPERWD
        gettext_noop("The message was stopped because its text contains blocked keywords"),  # noqa: E501
        # Translators: status code SUPERWD
        gettext_noop("Describe the use case to customer service so they can confirm the content type, and review keywords in the text."),  # noqa: E501
    ),
    "2:70": (
        # Translators: status code 2:70
        gettext_noop("The gateway blocks this number, usually after a complaint or opt-out"),  # noqa: E501
        # Translators: status code 2:70
        gettext_noop("The phone owner should call their carrier's hotline to ask for the block to be removed; also review the content."),  # noqa: E501
    ),
    "702": (
        # Translators: status code 702
        gettext_noop("Sending failed because the number is on a blocklist"),  # noqa: E501
        # Translators: status code 702
        gettext_noop("Ask customer service to take the number off the blocklist if it needs to receive messages."),  # noqa: E501
    ),
    "1": (
        # Translators: status code 1
        gettext_noop("Carrier code that mostly points to a problem with the number itself"),  # noqa: E501
        # Translators: status code 1
        gettext_noop("Call the number to check whether it exists, is switched on and is not suspended."),  # noqa: E501
    ),
    "24": (
        # Translators: status code 24
        gettext_noop("Carrier number problem, grouped with code 1 (empty, off or suspended)"),  # noqa: E501
        # Translators: status code 24
        gettext_noop("Confirm the number exists and is in service, e.g. by calling it."),  # noqa: E501
    ),
    "LT:0001": (
        # Translators: status code LT:0001
        gettext_noop("Carrier code grouped with code 1: the number is empty, off or suspended"),  # noqa: E501
        # Translators: status code LT:0001
        gettext_noop("Check that the number is valid and active, for example by calling it."),  # noqa: E501
    ),
    "MN:": (
        # Translators: status code MN:
        gettext_noop("China Mobile MN family; treated like code 1 (number empty, off, suspended)"),  # noqa: E501
        # Translators: status code MN:
        gettext_noop("Check the number is in service. If that is unclear, note the full code and escalate to customer service."),  # noqa: E501
    ),
    "MK:": (
        # Translators: status code MK:
        gettext_noop("China Mobile MK family; a plain MK code means the same as UNDELIV"),  # noqa: E501
        # Translators: status code MK:
        gettext_noop("Confirm the number exists and is in service, and look up the exact MK sub-code if one is given."),  # noqa: E501
    ),
    "2:12": (
        # Translators: status code 2:12
        gettext_noop("The recipient number is in an abnormal state (empty, off or suspended)"),  # noqa: E501
        # Translators: status code 2:12
        gettext_noop("Call the number to see its state; ask customer service if it is still unclear."),  # noqa: E501
    ),
    "2:24": (
        # Translators: status code 2:24
        gettext_noop("Number state problem: phone off, line suspended or SMS barred"),  # noqa: E501
        # Translators: status code 2:24
        gettext_noop("Call the number; the user may need the carrier to lift an SMS bar. Contact customer service if unsure."),  # noqa: E501
    ),
    "SUBFAIL": (
        # Translators: status code SUBFAIL
        gettext_noop("The recipient handset refused the message"),  # noqa: E501
        # Translators: status code SUBFAIL
        gettext_noop("The number is likely suspended, empty, off or has weak signal. Ask the user to check the phone is working normally."),  # noqa: E501
    ),
    "MK:0015": (
        # Translators: status code MK:0015
        gettext_noop("China Mobile MK code: delivery failed, usually a number problem"),  # noqa: E501
        # Translators: status code MK:0015
        gettext_noop("Confirm the number exists and is in service (not empty, off or suspended)."),  # noqa: E501
    ),
    "MK:0017": (
        # Translators: status code MK:0017
        gettext_noop("China Mobile MK code: sending failed, most often due to the number state"),  # noqa: E501
        # Translators: status code MK:0017
        gettext_noop("Check the recipient number is live and the phone is on and not suspended."),  # noqa: E501
    ),
    "MK:1006": (
        # Translators: status code MK:1006
        gettext_noop("China Mobile: a downstream gateway rejected the message"),  # noqa: E501
        # Translators: status code MK:1006
        gettext_noop("Check that the number and handset are in a normal state; escalate to customer service if it keeps happening."),  # noqa: E501
    ),
    "MK:1007": (
        # Translators: status code MK:1007
        gettext_noop("China Mobile: the gateway did not reply in time to the submission"),  # noqa: E501
        # Translators: status code MK:1007
        gettext_noop("Check the recipient number and handset state; if failures persist, contact customer service."),  # noqa: E501
    ),
    "MK:0208": (
        # Translators: status code MK:0208
        gettext_noop("The recipient's SIM message storage is full"),  # noqa: E501
        # Translators: status code MK:0208
        gettext_noop("Ask the user to clear messages from the SIM and then resend."),  # noqa: E501
    ),
    "MK:0209": (
        # Translators: status code MK:0209
        gettext_noop("The recipient's SIM card is not able to store text messages"),  # noqa: E501
        # Translators: status code MK:0209
        gettext_noop("This SIM cannot receive SMS. Ask the user to try a different SIM or handset."),  # noqa: E501
    ),
    "MK:0196": (
        # Translators: status code MK:0196
        gettext_noop("SMS use is barred for this subscriber"),  # noqa: E501
        # Translators: status code MK:0196
        gettext_noop("Note the message details and ask customer service or the carrier why SMS is barred for this number."),  # noqa: E501
    ),
    "SGIP:56": (
        # Translators: status code SGIP:56
        gettext_noop("China Unicom: delivery failed because the phone is switched off"),  # noqa: E501
        # Translators: status code SGIP:56
        gettext_noop("Ask the user to switch the phone on and check it works normally, then resend."),  # noqa: E501
    ),
    "SGIP:58": (
        # Translators: status code SGIP:58
        gettext_noop("China Unicom: the phone could not be reached (weak or no signal)"),  # noqa: E501
        # Translators: status code SGIP:58
        gettext_noop("Resend once the user has normal signal, and confirm the number is in service."),  # noqa: E501
    ),
    "MB:1048": (
        # Translators: status code MB:1048
        gettext_noop("Failed because the sending party is a ported-out (NP_OUT) number"),  # noqa: E501
        # Translators: status code MB:1048
        gettext_noop("Number portability issue. Try another number or terminal, then escalate to the provider with details."),  # noqa: E501
    ),
    "MB:1049": (
        # Translators: status code MB:1049
        gettext_noop("Failed because the recipient number was ported to another carrier"),  # noqa: E501
        # Translators: status code MB:1049
        gettext_noop("Try another number or handset; otherwise escalate to the provider's customer service with the message details."),  # noqa: E501
    ),
    "MA:": (
        # Translators: status code MA:
        gettext_noop("MA family: the SMS center gave no response"),  # noqa: E501
        # Translators: status code MA:
        gettext_noop("Collect the full code, message ID, number and time, and escalate to the provider's customer service."),  # noqa: E501
    ),
    "MB:": (
        # Translators: status code MB:
        gettext_noop("China Mobile MB family: the SMS center returned an error"),  # noqa: E501
        # Translators: status code MB:
        gettext_noop("Escalate to the provider's customer service with the exact sub-code and message details."),  # noqa: E501
    ),
    "ID:": (
        # Translators: status code ID:
        gettext_noop("ID family: an internal check at the messaging gateway failed"),  # noqa: E501
        # Translators: status code ID:
        gettext_noop("Escalate to the provider's customer service with the full code, number and send time."),  # noqa: E501
    ),
    "DA:": (
        # Translators: status code DA:
        gettext_noop("DA family: the DSMP platform did not respond"),  # noqa: E501
        # Translators: status code DA:
        gettext_noop("Note the full code and message details and escalate to the provider's customer service."),  # noqa: E501
    ),
    "DB:": (
        # Translators: status code DB:
        gettext_noop("DB family: the DSMP platform answered with an error"),  # noqa: E501
        # Translators: status code DB:
        gettext_noop("Escalate to the provider's customer service with the exact code and message details."),  # noqa: E501
    ),
    "MK:0013": (
        # Translators: status code MK:0013
        gettext_noop("China Mobile MK code: sending failed, cause not documented"),  # noqa: E501
        # Translators: status code MK:0013
        gettext_noop("Record the message ID, number and time and escalate to the provider's customer service."),  # noqa: E501
    ),
    "MK:0014": (
        # Translators: status code MK:0014
        gettext_noop("China Mobile MK code: the network returned an unexpected data value"),  # noqa: E501
        # Translators: status code MK:0014
        gettext_noop("Escalate to the provider's customer service with the message details."),  # noqa: E501
    ),
    "MK:0037": (
        # Translators: status code MK:0037
        gettext_noop("China Mobile MK code: the HLR reported an unknown error"),  # noqa: E501
        # Translators: status code MK:0037
        gettext_noop("Escalate to the provider's customer service with the code, number and send time."),  # noqa: E501
    ),
    "MK:0040": (
        # Translators: status code MK:0040
        gettext_noop("China Mobile MK code: the HLR did not answer a routing lookup"),  # noqa: E501
        # Translators: status code MK:0040
        gettext_noop("Escalate to the provider's customer service with the message details."),  # noqa: E501
    ),
    "MK:0041": (
        # Translators: status code MK:0041
        gettext_noop("China Mobile MK code: the HLR did not answer a set-flag request"),  # noqa: E501
        # Translators: status code MK:0041
        gettext_noop("Escalate to the provider's customer service, including the code, number and time."),  # noqa: E501
    ),
    "MK:0055": (
        # Translators: status code MK:0055
        gettext_noop("China Mobile MK code: the SGSN rejected the message (overloaded)"),  # noqa: E501
        # Translators: status code MK:0055
        gettext_noop("Network-side overload. Escalate to the provider's customer service with the message details."),  # noqa: E501
    ),
    "MK:0056": (
        # Translators: status code MK:0056
        gettext_noop("China Mobile MK code: HLR system error under flow control"),  # noqa: E501
        # Translators: status code MK:0056
        gettext_noop("Network-side fault. Pass the code, number and send time to the provider's customer service."),  # noqa: E501
    ),
    "MK:0057": (
        # Translators: status code MK:0057
        gettext_noop("China Mobile MK code: MSC system error (overload or auth not answered)"),  # noqa: E501
        # Translators: status code MK:0057
        gettext_noop("Network-side fault. Escalate to the provider's customer service with the message details."),  # noqa: E501
    ),
    "MB:0100": (
        # Translators: status code MB:0100
        gettext_noop("Temporary error on the receiving side"),  # noqa: E501
        # Translators: status code MB:0100
        gettext_noop("Escalate to the provider's customer service with the code, number and send time."),  # noqa: E501
    ),
    "MB:0101": (
        # Translators: status code MB:0101
        gettext_noop("Permanent error on the receiving side"),  # noqa: E501
        # Translators: status code MB:0101
        gettext_noop("Escalate to the provider's customer service with the message details."),  # noqa: E501
    ),
    "MB:0102": (
        # Translators: status code MB:0102
        gettext_noop("The receiving ESME refused the message"),  # noqa: E501
        # Translators: status code MB:0102
        gettext_noop("Pass the code, number and time to the provider's customer service for investigation."),  # noqa: E501
    ),
    "MB:1073": (
        # Translators: status code MB:1073
        gettext_noop("The called number failed account authentication"),  # noqa: E501
        # Translators: status code MB:1073
        gettext_noop("Network authentication issue. Escalate to the provider's customer service with the details."),  # noqa: E501
    ),
    "MB:1074": (
        # Translators: status code MB:1074
        gettext_noop("The calling user failed virtual SMS center authentication"),  # noqa: E501
        # Translators: status code MB:1074
        gettext_noop("Escalate to the provider's customer service with the code and message details."),  # noqa: E501
    ),
    "MB:1075": (
        # Translators: status code MB:1075
        gettext_noop("The called user failed virtual SMS center authentication"),  # noqa: E501
        # Translators: status code MB:1075
        gettext_noop("Network authentication issue. Pass the code, number and time to the provider's customer service."),  # noqa: E501
    ),
    "ID:0021": (
        # Translators: status code ID:0021
        gettext_noop("The subscriber account was cancelled according to MDSP authentication"),  # noqa: E501
        # Translators: status code ID:0021
        gettext_noop("Escalate to the provider's customer service with the number and message details."),  # noqa: E501
    ),
    "ID:0043": (
        # Translators: status code ID:0043
        gettext_noop("Sending to this other network is not allowed"),  # noqa: E501
        # Translators: status code ID:0043
        gettext_noop("Cross-network restriction. Escalate to the provider's customer service with the details."),  # noqa: E501
    ),
    "ID:0044": (
        # Translators: status code ID:0044
        gettext_noop("The message was sent outside the permitted sending hours"),  # noqa: E501
        # Translators: status code ID:0044
        gettext_noop("Resend within the allowed time window; if unclear, ask the provider's customer service about the rule."),  # noqa: E501
    ),
    "ID:0056": (
        # Translators: status code ID:0056
        gettext_noop("The subscriber was in an abnormal state during authentication"),  # noqa: E501
        # Translators: status code ID:0056
        gettext_noop("Escalate to the provider's customer service with the number, code and send time."),  # noqa: E501
    ),
    "ID:0061": (
        # Translators: status code ID:0061
        gettext_noop("The message's validity period had already run out"),  # noqa: E501
        # Translators: status code ID:0061
        gettext_noop("Escalate to the provider's customer service with the message details."),  # noqa: E501
    ),
    "ID:0062": (
        # Translators: status code ID:0062
        gettext_noop("The scheduled delivery time had already passed"),  # noqa: E501
        # Translators: status code ID:0062
        gettext_noop("Escalate to the provider's customer service with the code and message details."),  # noqa: E501
    ),
    "DB:9001": (
        # Translators: status code DB:9001
        gettext_noop("China Mobile: delivery failed because of a network error"),  # noqa: E501
        # Translators: status code DB:9001
        gettext_noop("Escalate to the carrier or the provider's customer service with the message details."),  # noqa: E501
    ),
    "TIMEOUT": (
        # Translators: status code TIMEOUT
        gettext_noop("China Mobile: the server's connection to the gateway timed out"),  # noqa: E501
        # Translators: status code TIMEOUT
        gettext_noop("Escalate to the carrier or the provider's customer service with the code, number and time."),  # noqa: E501
    ),
    "AP:2": (
        # Translators: status code AP:2
        gettext_noop("China Mobile: the gateway rejected the sender's IP authentication"),  # noqa: E501
        # Translators: status code AP:2
        gettext_noop("Escalate to the carrier or the provider's customer service with the message details."),  # noqa: E501
    ),
    "AP:3": (
        # Translators: status code AP:3
        gettext_noop("China Mobile: the gateway reported an authentication error"),  # noqa: E501
        # Translators: status code AP:3
        gettext_noop("Escalate to the carrier or the provider's customer service with the code and details."),  # noqa: E501
    ),
    "AP:4": (
        # Translators: status code AP:4
        gettext_noop("China Mobile: protocol version number did not match"),  # noqa: E501
        # Translators: status code AP:4
        gettext_noop("Escalate to the carrier or the provider's customer service with the message details."),  # noqa: E501
    ),
    "SGIP:22": (
        # Translators: status code SGIP:22
        gettext_noop("China Unicom: the message was routed incorrectly"),  # noqa: E501
        # Translators: status code SGIP:22
        gettext_noop("Escalate to the carrier or the provider's customer service with the code, number and time."),  # noqa: E501
    ),
    "SGIP:23": (
        # Translators: status code SGIP:23
        gettext_noop("China Unicom: no route exists for this message"),  # noqa: E501
        # Translators: status code SGIP:23
        gettext_noop("Escalate to the carrier or the provider's customer service with the message details."),  # noqa: E501
    ),
    "SGIP:57": (
        # Translators: status code SGIP:57
        gettext_noop("China Unicom: the sender logged in from an unregistered IP address"),  # noqa: E501
        # Translators: status code SGIP:57
        gettext_noop("The supplier must connect from its registered IP. Escalate to the provider's customer service."),  # noqa: E501
    ),
    "SGIP:113": (
        # Translators: status code SGIP:113
        gettext_noop("China Unicom: the packet was malformed or missing required fields"),  # noqa: E501
        # Translators: status code SGIP:113
        gettext_noop("Escalate to the carrier or the provider's customer service with the message details."),  # noqa: E501
    ),
    "SGIP:216": (
        # Translators: status code SGIP:216
        gettext_noop("China Unicom: on-behalf billing for the SP is suspended in the user's city"),  # noqa: E501
        # Translators: status code SGIP:216
        gettext_noop("Unicom gateway issue. Escalate to the carrier or the provider's customer service."),  # noqa: E501
    ),
    "SGIP:221": (
        # Translators: status code SGIP:221
        gettext_noop("China Unicom: invalid SP IP address (HTTP reverse operations only)"),  # noqa: E501
        # Translators: status code SGIP:221
        gettext_noop("Unicom gateway issue. Escalate to the carrier or the provider's customer service with details."),  # noqa: E501
    ),
    "175": (
        # Translators: status code 175
        gettext_noop("China Unicom: unspecified error in the TP-Command field"),  # noqa: E501
        # Translators: status code 175
        gettext_noop("Escalate to the carrier or the provider's customer service with the code and message details."),  # noqa: E501
    ),
    "164": (
        # Translators: status code 164
        gettext_noop("China Unicom: the user's queue is full (limit of 50 messages)"),  # noqa: E501
        # Translators: status code 164
        gettext_noop("Escalate to the carrier or the provider's customer service with the number and send time."),  # noqa: E501
    ),
    "SMGPERR:20": (
        # Translators: status code SMGPERR:20
        gettext_noop("China Telecom: gateway reported an IP address error"),  # noqa: E501
        # Translators: status code SMGPERR:20
        gettext_noop("Ask the user to restart or change the handset; if it persists, escalate to the provider's customer service."),  # noqa: E501
    ),
    "SMGPERR:21": (
        # Translators: status code SMGPERR:21
        gettext_noop("China Telecom: gateway reported an authentication error"),  # noqa: E501
        # Translators: status code SMGPERR:21
        gettext_noop("Try a handset restart or another device; otherwise escalate to the provider's customer service."),  # noqa: E501
    ),
    "SMGPERR:22": (
        # Translators: status code SMGPERR:22
        gettext_noop("China Telecom: protocol version did not match"),  # noqa: E501
        # Translators: status code SMGPERR:22
        gettext_noop("Telecom gateway issue. Escalate to the carrier or the provider's customer service."),  # noqa: E501
    ),
    "SMGPERR:52": (
        # Translators: status code SMGPERR:52
        gettext_noop("China Telecom: the recipient is an unregistered (prepaid) user"),  # noqa: E501
        # Translators: status code SMGPERR:52
        gettext_noop("Confirm the number is registered and in service; contact the carrier or customer service if unsure."),  # noqa: E501
    ),
    "SMGPERR:53": (
        # Translators: status code SMGPERR:53
        gettext_noop("China Telecom: the service provider (SP) is not registered"),  # noqa: E501
        # Translators: status code SMGPERR:53
        gettext_noop("Escalate to the carrier or the provider's customer service with the message details."),  # noqa: E501
    ),
    "REJECTD*704": (
        # Translators: status code REJECTD*704
        gettext_noop("Sending failed because the supplier channel ran out of funds"),  # noqa: E501
        # Translators: status code REJECTD*704
        gettext_noop("Channel balance problem on the supplier side. Escalate to the provider's customer service."),  # noqa: E501
    ),
    "E200018": (
        # Translators: status code E200018
        gettext_noop("Mainland sender channel check failed: from channel not in this app"),  # noqa: E501
        # Translators: status code E200018
        gettext_noop("Make sure the signature channel number in 'from' belongs to the application of the APP_Key used."),  # noqa: E501
    ),
    "E200019": (
        # Translators: status code E200019
        gettext_noop("Mainland sender channel could not be matched for the request"),  # noqa: E501
        # Translators: status code E200019
        gettext_noop("Check the signature is approved and has a channel number, correct 'from', then wait about 10 minutes and resend."),  # noqa: E501
    ),
    "E200020": (
        # Translators: status code E200020
        gettext_noop("Mainland signature check failed: signature does not match the channel"),  # noqa: E501
        # Translators: status code E200020
        gettext_noop("Align the 'from' channel's signature with the template's; generic templates must pass the signature parameter."),  # noqa: E501
    ),
    "E200021": (
        # Translators: status code E200021
        gettext_noop("Mainland signature channel match failed: app has no channel set up"),  # noqa: E501
        # Translators: status code E200021
        gettext_noop("Channel configuration is missing for the app. Record the details and contact the provider's customer service."),  # noqa: E501
    ),
    "E200022": (
        # Translators: status code E200022
        gettext_noop("Mainland recipient channel check failed (number out of scope)"),  # noqa: E501
        # Translators: status code E200022
        gettext_noop("This number or number type is not supported for the app. Confirm the sending scope and remove unsupported numbers."),  # noqa: E501
    ),
    "E200023": (
        # Translators: status code E200023
        gettext_noop("Mainland recipient channel match failed: number not in carrier table"),  # noqa: E501
        # Translators: status code E200023
        gettext_noop("Check whether the signature needs to be activated, then record details and contact customer service."),  # noqa: E501
    ),
    "E200024": (
        # Translators: status code E200024
        gettext_noop("International SMS is not enabled for this sender"),  # noqa: E501
        # Translators: status code E200024
        gettext_noop("Remove non-mainland numbers, or confirm the APP_Key and 'from' channel support international SMS."),  # noqa: E501
    ),
    "E200025": (
        # Translators: status code E200025
        gettext_noop("International recipient check failed: number not in the app's range"),  # noqa: E501
        # Translators: status code E200025
        gettext_noop("The destination is not supported. Confirm the allowed range with customer service and remove unsupported numbers."),  # noqa: E501
    ),
    "E200026": (
        # Translators: status code E200026
        gettext_noop("International recipient channel match failed for this number"),  # noqa: E501
        # Translators: status code E200026
        gettext_noop("Check the 'from' channel configuration for the app, then record details and contact customer service."),  # noqa: E501
    ),
    "E200027": (
        # Translators: status code E200027
        gettext_noop("No gateway or route is configured for the application"),  # noqa: E501
        # Translators: status code E200027
        gettext_noop("Check whether the signature needs activating; record the details and contact the provider's customer service."),  # noqa: E501
    ),
    "E200032": (
        # Translators: status code E200032
        gettext_noop("The send request did not include a template"),  # noqa: E501
        # Translators: status code E200032
        gettext_noop("Fix the request: pass templateId, plus templateParas when the template has variables."),  # noqa: E501
    ),
    "E200034": (
        # Translators: status code E200034
        gettext_noop("Retrying the message on the platform side timed out"),  # noqa: E501
        # Translators: status code E200034
        gettext_noop("Record the message ID, number and time and escalate to the provider's customer service."),  # noqa: E501
    ),
    "E200035": (
        # Translators: status code E200035
        gettext_noop("The platform failed to replace a protocol field in the request"),  # noqa: E501
        # Translators: status code E200035
        gettext_noop("Check the request and account configuration; record the details and contact customer service."),  # noqa: E501
    ),
    "E200036": (
        # Translators: status code E200036
        gettext_noop("The outbound channel's rate limit is configured as zero"),  # noqa: E501
        # Translators: status code E200036
        gettext_noop("Escalate to the provider's customer service with the message details so the channel rate can be checked."),  # noqa: E501
    ),
    "E200038": (
        # Translators: status code E200038
        gettext_noop("Not all parts of a long SMS arrived within the time window"),  # noqa: E501
        # Translators: status code E200038
        gettext_noop("Check the sender's code and network so every part of a long message is submitted within the window."),  # noqa: E501
    ),
    "E200051": (
        # Translators: status code E200051
        gettext_noop("International verification code text is not in a valid format"),  # noqa: E501
        # Translators: status code E200051
        gettext_noop("Make the international verification code match the required format (for example only 4 to 8 digits)."),  # noqa: E501
    ),
    "E000503": (
        # Translators: status code E000503
        gettext_noop("Bad number format in the group-send assistant upload"),  # noqa: E501
        # Translators: status code E000503
        gettext_noop("Correct the number formats in the group-send file and upload it again."),  # noqa: E501
    ),
    "E000628": (
        # Translators: status code E000628
        gettext_noop("Stopped by platform review: destination country/region not allowed"),  # noqa: E501
        # Translators: status code E000628
        gettext_noop("Add the country or region under General Settings in the console, then resend."),  # noqa: E501
    ),
    "E000629": (
        # Translators: status code E000629
        gettext_noop("Stopped by platform review: the SMS package is used up"),  # noqa: E501
        # Translators: status code E000629
        gettext_noop("Buy a new package, or ask to switch the sending mode to pay-per-use."),  # noqa: E501
    ),
    "E000632": (
        # Translators: status code E000632
        gettext_noop("Stopped by the customer's own country number blocklist rule"),  # noqa: E501
        # Translators: status code E000632
        gettext_noop("Remove the matching number or number-segment rule under General Settings in the console."),  # noqa: E501
    ),
    "SC:0001": (
        # Translators: status code SC:0001
        gettext_noop("Manual review judged the message content non-compliant"),  # noqa: E501
        # Translators: status code SC:0001
        gettext_noop("Rewrite the content to follow the template rules and contact customer service if needed."),  # noqa: E501
    ),
    "SC:0003": (
        # Translators: status code SC:0003
        gettext_noop("The platform blocklist intercepted this recipient number"),  # noqa: E501
        # Translators: status code SC:0003
        gettext_noop("Drop the number and retry, or request removal in the console under General Management > Blocklist Management."),  # noqa: E501
    ),
    "SC:0004": (
        # Translators: status code SC:0004
        gettext_noop("Intercepted because the recipient is on a protected (red) list"),  # noqa: E501
        # Translators: status code SC:0004
        gettext_noop("The number has a protected status. Remove it from the recipient list and resend."),  # noqa: E501
    ),
    "SC:0005": (
        # Translators: status code SC:0005
        gettext_noop("Intercepted because the number has a complaint on record"),  # noqa: E501
        # Translators: status code SC:0005
        gettext_noop("Remove the number from the recipient list and retry."),  # noqa: E501
    ),
    "SC:0006": (
        # Translators: status code SC:0006
        gettext_noop("The message contained forbidden keywords and was intercepted"),  # noqa: E501
        # Translators: status code SC:0006
        gettext_noop("Change the content or variable values to avoid blocked words; contact customer service if unclear."),  # noqa: E501
    ),
    "SC:0010": (
        # Translators: status code SC:0010
        gettext_noop("The platform blocked the message for sending too often"),  # noqa: E501
        # Translators: status code SC:0010
        gettext_noop("The rate limit was hit. Throttle and spread sends over time; ask the provider if the limits look wrong."),  # noqa: E501
    ),
    "SC:0013": (
        # Translators: status code SC:0013
        gettext_noop("The signature matched the unsubscribe blocklist"),  # noqa: E501
        # Translators: status code SC:0013
        gettext_noop("Likely an account-level opt-out. Give the Huawei Cloud account and signature to customer service."),  # noqa: E501
    ),
    "SC:0014": (
        # Translators: status code SC:0014
        gettext_noop("Content did not match the review-exempt template"),  # noqa: E501
        # Translators: status code SC:0014
        gettext_noop("Record the actual content and the template and contact customer service to check the template setup."),  # noqa: E501
    ),
    "SC:0015": (
        # Translators: status code SC:0015
        gettext_noop("Content matched a template that is set to be blocked"),  # noqa: E501
        # Translators: status code SC:0015
        gettext_noop("Look for sensitive words, change the variable values, and try again."),  # noqa: E501
    ),
    "SC:0016": (
        # Translators: status code SC:0016
        gettext_noop("The recipient opted out by replying R to this channel/signature"),  # noqa: E501
        # Translators: status code SC:0016
        gettext_noop("Applies to promotional SMS. To lift it, give the signature, channel number and phone number to customer service."),  # noqa: E501
    ),
    "SC:0017": (
        # Translators: status code SC:0017
        gettext_noop("The template used was never registered"),  # noqa: E501
        # Translators: status code SC:0017
        gettext_noop("Apply for the template or switch to an approved one, then resend."),  # noqa: E501
    ),
    "SC:0018": (
        # Translators: status code SC:0018
        gettext_noop("The signature used was never registered"),  # noqa: E501
        # Translators: status code SC:0018
        gettext_noop("Apply for the signature or switch to an approved one, then resend."),  # noqa: E501
    ),
}
# fmt: on
