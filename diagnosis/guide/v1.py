"""Version 1 of the guide: "a phone did not receive an SMS sent through the API".

Node ids are stored on cases and answers: never rename one; change the graph by
adding a new version module instead. `ref` keeps the guide's own names (C1, N3 ...)
so agents and the source guide can be compared side by side. The phone checks
(P1-P5) also carry a question and answer labels in the customer's words: the ticket
form offers them as self-help before filing.
"""

from __future__ import annotations

from diagnosis.guide.graph import (
    WAIT_DEADLINE,
    WAIT_REPORT,
    Answer,
    Detail,
    DetailKind,
    Evidence,
    Guide,
    Kind,
    Node,
    Result,
    Text,
)

# Every text a person reads is marked with `Text` under the name makemessages looks for: it
# is translated when shown, in the language of the request (see `graph.Text`). Ids, refs
# (C1, N3 ...), answer values and detail names stay as they are.
_ = Text

VERSION = "1"

_YES, _NO = "yes", "no"


def _check(
    node_id: str,
    ref: str,
    title: str,
    agent: str,
    customer: str,
    *answers: Answer,
    evidence: Evidence | None = None,
    question: str = "",
) -> Node:
    return Node(
        node_id,
        Kind.CHECK,
        ref,
        title,
        agent,
        customer,
        answers=answers,
        evidence=evidence,
        customer_question=question,
    )


def _wait(node_id: str, ref: str, title: str, agent: str, customer: str) -> Node:
    return Node(
        node_id,
        Kind.WAIT,
        ref,
        title,
        agent,
        customer,
        answers=(
            Answer(WAIT_REPORT, _("A status report arrived"), "status_is_delivrd"),
            Answer(WAIT_DEADLINE, _("72 hours passed without a report"), "E_no_report_after_72h"),
        ),
    )


def _outcome(result: Result, cause: str, title: str, agent: str, customer: str, *details: Detail) -> Node:
    prefix = "R" if result is Result.RESOLVED else "E"
    return Node(
        f"{prefix}_{cause}",
        Kind.OUTCOME,
        prefix,
        title,
        agent,
        customer,
        result=result,
        cause=cause,
        details=details,
    )


_NOTHING_YET = _(
    "We are still looking into what happened to your message and will update this page as soon as we know more."
)
_NUMBER_CHECK = _(
    "The network reported that your message could not be delivered. We are checking the number "
    "and the carrier to find out why."
)

NODES = (
    # --- Was a report returned? -------------------------------------------------
    _check(
        "report_returned",
        "C1",
        _("Did a final status report come back for this message?"),
        _(
            "Look for a final delivery status for the message id: reports received on the callback, rows "
            "imported from Send Details, or the console's Send Details page (search by number, at most 7 days "
            "per search). An intermediate status such as ACCEPTD does not count. Enter the status code if there is one."
        ),
        _NOTHING_YET,
        Answer("no_report", _("No final report yet"), "dial_recipient"),
        Answer("report_present", _("Yes, a final report is there"), "status_is_delivrd"),
        evidence=Evidence.STATUS_CODE,
    ),
    _check(
        "dial_recipient",
        "C2",
        _("Call the recipient: is the number dead, suspended, or the phone switched off?"),
        _(
            "Ring the recipient number. A dead, suspended or switched-off phone explains a missing report; "
            "the platform will still produce one within 72 hours of sending. If the phone rings normally, "
            "the message may be held in a carrier's content review, which also delays the report."
        ),
        _NOTHING_YET,
        Answer(_YES, _("Yes: dead, suspended or switched off"), "wait_phone_off"),
        Answer(_NO, _("No: the phone is on and reachable"), "wait_review_hold"),
    ),
    _wait(
        "wait_phone_off",
        "W1",
        _("Waiting for the report: the phone is off or out of service"),
        _(
            "Nothing to do for now. The portal keeps checking for the delivery report and resumes the case "
            "when one arrives, or escalates to the provider if 72 hours pass after sending with none."
        ),
        _(
            "The phone could not be reached, so the network has not confirmed delivery yet. This can take up to "
            "72 hours after sending; we are watching for the result and will update you."
        ),
    ),
    _wait(
        "wait_review_hold",
        "W2",
        _("Waiting for the report: the message may be held for review"),
        _(
            "The phone is reachable, so the message may be delayed by a carrier's content review. The portal "
            "keeps checking for the delivery report and resumes the case when one arrives, or escalates to "
            "the provider if 72 hours pass after sending with none."
        ),
        _(
            "Delivery of your message seems to be delayed on the network side. The final result can take up to "
            "72 hours after sending; we are watching for it and will update you."
        ),
    ),
    # --- Is the status DELIVRD? ----------------------------------------------
    _check(
        "status_is_delivrd",
        "C3",
        _("Is the report's status DELIVRD?"),
        _(
            "Read the status code of the final report. DELIVRD means the handset accepted the message, so the "
            "problem is on the phone. Any other code says why delivery failed; its family decides which "
            "carrier or number check comes first."
        ),
        _(
            "The mobile network has now reported what happened to your message. We are reading the result to "
            "decide what to check next, and will update you."
        ),
        Answer("delivered", _("Yes: DELIVRD"), "junk_folder", branches=("delivered",)),
        Answer(
            "limit", _("No: a sending-rate or quota limit"), "frequency_limit", branches=("frequency_limit",)
        ),
        Answer(
            "number",
            _("No: the number failed or timed out"),
            "number_dead",
            branches=("number_invalid", "timeout"),
        ),
        Answer(
            "not_supported",
            _("No: this number or destination is not supported"),
            "iot_card",
            branches=("not_supported",),
        ),
        Answer(
            "blocked",
            _("No: blocked by the carrier or a filter"),
            "carrier_block",
            branches=("carrier_block",),
        ),
        Answer(
            "other",
            _("No: another or unknown failure"),
            "E_unexplained_failure",
            branches=("request_error", "unknown", "pending"),
        ),
        evidence=Evidence.STATUS_CODE,
    ),
    # --- Not DELIVRD: carrier and number checks ------------------------------------
    _check(
        "frequency_limit",
        "N1",
        _("Did the message hit a sending-rate or quota limit?"),
        _(
            "Codes such as LIMIT, BEYONDN or MILIMIT mean too many messages went to this number in a period. "
            "If that is the code, the provider must confirm whether its frequency limit was reached."
        ),
        _NUMBER_CHECK,
        Answer(_YES, _("Yes: a rate or quota limit"), "E_frequency_limit"),
        Answer(_NO, _("No"), "number_dead"),
    ),
    _check(
        "number_dead",
        "N2",
        _("Call the number: is it dead or suspended?"),
        _("Ring the number. A number that does not exist, was cancelled or is suspended cannot receive SMS."),
        _NUMBER_CHECK,
        Answer(_YES, _("Yes: dead or suspended"), "R_number_unreachable"),
        Answer(_NO, _("No: the number is in service"), "ported_in"),
    ),
    _check(
        "ported_in",
        "N3",
        _("Was the number ported in from another carrier?"),
        _(
            "Numbers moved between carriers are sometimes routed to the old one. Ask the customer or look the "
            "number up. If it was ported, the next step asks for its current carrier and porting date, which "
            "go to the provider with the escalation."
        ),
        _NUMBER_CHECK,
        Answer(_YES, _("Yes: ported from another carrier"), "E_ported_number"),
        Answer(_NO, _("No"), "iot_card"),
    ),
    _check(
        "iot_card",
        "N4",
        _("Does the number belong to an IoT (machine) SIM card?"),
        _("IoT and data-only SIM cards cannot receive SMS through this service."),
        _NUMBER_CHECK,
        Answer(_YES, _("Yes: an IoT card"), "R_not_supported_iot"),
        Answer(_NO, _("No"), "virtual_carrier"),
    ),
    _check(
        "virtual_carrier",
        "N5",
        _("Is the number from a virtual carrier (MVNO)?"),
        _(
            "Some virtual carriers are not reachable through every channel; the provider has to confirm support. "
            "If it is one, the next step asks for the carrier's name for the escalation."
        ),
        _NUMBER_CHECK,
        Answer(_YES, _("Yes: a virtual carrier"), "E_virtual_carrier"),
        Answer(_NO, _("No"), "carrier_block"),
    ),
    _check(
        "carrier_block",
        "N6",
        _("Does the carrier block SMS for this recipient?"),
        _(
            "Ask the recipient to call their carrier's service line and check whether incoming SMS are "
            "blocked on their line. If so, have the block lifted and send the message again."
        ),
        _(
            "The recipient's carrier may be blocking messages to this number. Please call the carrier's service "
            "line and ask whether incoming SMS are blocked on your line."
        ),
        Answer(_YES, _("Yes: blocked, now lifted and resent"), "R_carrier_block_removed"),
        Answer(_NO, _("No"), "carrier_blacklist"),
    ),
    _check(
        "carrier_blacklist",
        "N7",
        _("Has the carrier put the number on a blocklist?"),
        _(
            "Carriers keep blocklists (for example after complaints or unsubscribes). If the number is on one, "
            "have it removed and send the message again."
        ),
        _("The number may be on a carrier blocklist. We are asking for it to be removed."),
        Answer(_YES, _("Yes: listed, now removed and resent"), "R_blacklist_removed"),
        Answer(_NO, _("No"), "E_unexplained_failure"),
    ),
    # --- DELIVRD: checks on the phone --------------------------------------------------
    _check(
        "junk_folder",
        "P1",
        _("Is the message in a junk, spam or blocked-messages folder?"),
        _("Ask the customer to look in the phone's spam, junk or blocked folders and in any filtering app."),
        _(
            "Our records show the network handed your message to the phone. We will go through a few quick "
            "checks on the phone itself with you. First, please look in the phone's spam, junk or "
            "blocked-messages folder."
        ),
        Answer(_YES, _("Yes: found there"), "R_spam_filtered", customer_label=_("Yes, I found it")),
        Answer(_NO, _("No"), "signal", customer_label=_("No, it is not there")),
        question=_("Look in the phone's spam, junk or blocked-messages folder. Is the message there?"),
    ),
    _check(
        "signal",
        "P2",
        _("Does the phone have signal and receive other SMS?"),
        _("Ask whether the phone shows network signal and whether other text messages arrive."),
        _("Please check that the phone has mobile signal and can receive other text messages."),
        Answer(
            _YES,
            _("Yes: signal is fine and other SMS arrive"),
            "inbox_full",
            customer_label=_("Yes, both are fine"),
        ),
        Answer(
            _NO,
            _("No signal, or no SMS arrive at all"),
            "R_no_signal",
            customer_label=_("No, there is no signal or no SMS arrive"),
        ),
        question=_("Does the phone show mobile signal, and do other text messages arrive?"),
    ),
    _check(
        "inbox_full",
        "P3",
        _("Is the message inbox full?"),
        _(
            "A full inbox or SIM storage rejects new messages. Ask the customer to delete old messages and check again."
        ),
        _("Please check whether the message inbox is full; delete a few old messages and look again."),
        Answer(
            _YES,
            _("Yes: it was full, now cleared"),
            "R_inbox_full",
            customer_label=_("It was full, and now the message arrived"),
        ),
        Answer(_NO, _("No"), "other_phone", customer_label=_("It was not full")),
        question=_("Is the message inbox full? Delete a few old messages, then look again."),
    ),
    _check(
        "other_phone",
        "P4",
        _("Does the SIM receive the message in another phone?"),
        _("Ask the customer to put the SIM into another phone and send the message again."),
        _("Please put the SIM card into another phone and tell us whether messages arrive there."),
        Answer(
            _YES,
            _("Yes: it works in another phone"),
            "R_handset_fault",
            customer_label=_("Yes, it arrives in the other phone"),
        ),
        Answer(_NO, _("No"), "restart", customer_label=_("No, or I cannot try this")),
        question=_("If you can, put the SIM card in another phone. Does the message arrive there?"),
    ),
    _check(
        "restart",
        "P5",
        _("Does the message arrive after restarting the phone?"),
        _("Ask the customer to switch the phone off and on again, then send the message again."),
        _("Please restart the phone and tell us whether the message arrives afterwards."),
        Answer(
            _YES, _("Yes: it arrives now"), "R_resolved_after_restart", customer_label=_("Yes, it arrived")
        ),
        Answer(_NO, _("No"), "E_persistent_after_phone_checks", customer_label=_("No, still nothing")),
        question=_("Switch the phone off and on again. Does the message arrive now?"),
    ),
    # --- Resolved -------------------------------------------------------------------
    _outcome(
        Result.RESOLVED,
        "number_unreachable",
        _("The number is dead or suspended"),
        _(
            "Tell the customer the number is out of service; nothing can be delivered until it is active again."
        ),
        _(
            "The recipient number is not in service (it was cancelled or suspended), so messages cannot reach it. "
            "Once the number is active again, new messages will be delivered."
        ),
    ),
    _outcome(
        Result.RESOLVED,
        "not_supported_iot",
        _("IoT card: SMS not supported"),
        _(
            "Explain that IoT and data-only cards cannot receive these messages; suggest a regular mobile number."
        ),
        _(
            "The number belongs to an IoT or data-only SIM card, and this service cannot send text messages to "
            "such cards. Please use a regular mobile number instead."
        ),
    ),
    _outcome(
        Result.RESOLVED,
        "carrier_block_removed",
        _("Carrier block lifted"),
        _("The carrier lifted the block; confirm with the customer that the resent message arrived."),
        _(
            "The carrier was blocking text messages to this number. Now that the block is lifted, new messages "
            "should arrive; please tell us if they do not."
        ),
    ),
    _outcome(
        Result.RESOLVED,
        "blacklist_removed",
        _("Number removed from the carrier blocklist"),
        _("The number is off the blocklist; confirm that the resent message arrived."),
        _("The number was on a carrier blocklist and has been taken off it. New messages should arrive now."),
    ),
    _outcome(
        Result.RESOLVED,
        "spam_filtered",
        _("Filtered as spam on the phone"),
        _("The phone's filter caught the message; suggest marking the sender as trusted."),
        _(
            "Your message was delivered but the phone put it in a spam or junk folder. Marking the sender as "
            "trusted should keep future messages in the inbox."
        ),
    ),
    _outcome(
        Result.RESOLVED,
        "no_signal",
        _("No signal on the phone"),
        _("The phone had no usable signal; messages will arrive once it is back in coverage."),
        _("The phone had no usable mobile signal. Messages will arrive once it is back in coverage."),
    ),
    _outcome(
        Result.RESOLVED,
        "inbox_full",
        _("The inbox was full"),
        _("Clearing the inbox fixed it; suggest keeping some space free."),
        _("The phone's message storage was full. Now that it has space, messages arrive again."),
    ),
    _outcome(
        Result.RESOLVED,
        "handset_fault",
        _("A problem with the handset"),
        _("The SIM works in another phone, so the original handset or its settings are at fault."),
        _(
            "The SIM card receives messages in another phone, so the problem is with the original handset or "
            "its settings. The phone's manufacturer or a repair shop can help further."
        ),
    ),
    _outcome(
        Result.RESOLVED,
        "resolved_after_restart",
        _("Fixed by restarting the phone"),
        _("A restart cleared the problem; close the case once the customer confirms."),
        _("Restarting the phone fixed it and messages arrive again."),
    ),
    # --- Escalated to the provider's customer service ----------------------------------------
    _outcome(
        Result.ESCALATED,
        "no_report_after_72h",
        _("No report 72 hours after sending"),
        _(
            "The platform should have produced a report by now, so the portal sent the case to the "
            "provider's customer service with the package below. Record their answer under Escalations."
        ),
        _(
            "We have still not received a delivery result 72 hours after sending, so we have asked the SMS "
            "provider to investigate. We will update you when they answer."
        ),
    ),
    _outcome(
        Result.ESCALATED,
        "frequency_limit",
        _("Sending frequency limit reached"),
        _(
            "The portal asked the provider's customer service whether this number hit its sending-frequency "
            "limit and when it resets, with the package below. Record their answer under Escalations."
        ),
        _(
            "The message was stopped by a limit on how many messages one number may receive in a period. We "
            "have asked the SMS provider to confirm and will update you."
        ),
    ),
    _outcome(
        Result.ESCALATED,
        "ported_number",
        _("Ported number"),
        _(
            "The provider's customer service checks how a ported number is routed. The escalation goes to "
            "them once the number's current carrier and porting date are recorded here, and carries both."
        ),
        _(
            "The number moved from another carrier, which can affect how messages are routed to it. We are "
            "asking the SMS provider to check the routing and will update you."
        ),
        Detail(
            "current_carrier", _("Current carrier"), help_text=_("The carrier the number belongs to now.")
        ),
        Detail(
            "previous_carrier",
            _("Previous carrier"),
            help_text=_("The carrier it was ported from, if known."),
            required=False,
        ),
        Detail("ported_on", _("Porting date"), DetailKind.DATE, help_text=_("The day the number moved.")),
    ),
    _outcome(
        Result.ESCALATED,
        "virtual_carrier",
        _("Virtual carrier"),
        _(
            "The provider's customer service confirms whether messages to a virtual carrier are supported. "
            "The escalation goes to them once the carrier's name is recorded here, and carries it."
        ),
        _(
            "The number belongs to a virtual carrier. We are asking the SMS provider whether messages to it "
            "are supported and will update you."
        ),
        Detail("virtual_carrier", _("Virtual carrier"), help_text=_("The name the carrier trades under.")),
        Detail(
            "host_network",
            _("Network it runs on"),
            help_text=_("The carrier whose network it uses, if known."),
            required=False,
        ),
    ),
    _outcome(
        Result.ESCALATED,
        "unexplained_failure",
        _("Delivery failed for an unexplained reason"),
        _(
            "No carrier or number check explains the failure, so the portal sent the case to the provider's "
            "customer service with the package below. Record their answer under Escalations."
        ),
        _(
            "The network reported a delivery failure that our checks could not explain. We have asked the SMS "
            "provider to investigate and will update you."
        ),
    ),
    _outcome(
        Result.ESCALATED,
        "persistent_after_phone_checks",
        _("Still missing after every phone check"),
        _(
            "The report says delivered, yet none of the phone checks helped, so the portal sent the case to "
            "the provider's customer service with the package below. Record their answer under Escalations."
        ),
        _(
            "The network confirms delivery, yet the message still does not appear after all the phone checks. "
            "We have asked the SMS provider to investigate and will update you."
        ),
    ),
)

GUIDE = Guide(version=VERSION, start="report_returned", nodes=NODES)
