"""The word lists the rule extractor reads clauses with: relations, jobs, events, verbs.

Lists, not a model: each word is here because a rule needs to know what kind of thing it names
(a relative, a pet species, a job, an event one attends) or how a verb inflects.
"""

from __future__ import annotations

import re

__all__ = [
    "ADVERBS",
    "AUX",
    "CHILDREN",
    "EVENTS",
    "FRIENDS",
    "IDENTITY",
    "JOBS",
    "NOT_EVENTS",
    "OWNABLE",
    "PARTNERS",
    "PETS",
    "RELATIVES",
    "is_base",
    "is_gerund",
    "is_past",
    "lemma",
    "word_set",
]


def word_set(text: str) -> frozenset[str]:
    """The words of ``text``, split on white space."""
    return frozenset(text.split())


PARTNERS = word_set("husband wife partner boyfriend girlfriend fiance fiancé fiancee fiancée spouse hubby bf gf")
CHILDREN = word_set("son sons daughter daughters kid kids child children baby youngest oldest eldest twins stepson")
RELATIVES = word_set(
    "mom mum mother mama dad father papa parents brother brothers sister sisters sibling siblings grandma "
    "grandmother grandpa grandfather grandparents granny nana cousin cousins aunt auntie uncle niece nephew "
    "stepmom stepdad in-laws mother-in-law father-in-law brother-in-law sister-in-law"
)
PETS = word_set(
    "dog dogs puppy puppies pup pups cat cats kitten kittens kitty turtle turtles tortoise fish goldfish hamster "
    "hamsters rabbit rabbits bunny parrot bird birds snake lizard gecko ferret horse pony chinchilla hedgehog"
)
FRIENDS = word_set("friend bestie bff buddy pal roommate")
JOBS = word_set(
    "teacher nurse doctor engineer developer programmer designer artist writer author chef cook baker banker "
    "lawyer accountant manager counselor counsellor therapist worker coach player guard forward athlete musician "
    "singer dancer photographer scientist researcher professor lecturer pilot driver mechanic electrician "
    "plumber carpenter firefighter officer cop soldier entrepreneur founder owner consultant analyst intern "
    "assistant cashier waiter waitress barista bartender pharmacist dentist vet veterinarian architect editor "
    "journalist reporter actor actress filmmaker director producer screenwriter comedian streamer youtuber "
    "blogger influencer tutor instructor trainer librarian clerk secretary receptionist farmer gardener "
    "sculptor potter stylist hairdresser model caregiver babysitter nanny paramedic surgeon psychologist "
    "psychiatrist politician mayor policymaker ceo freelancer"
)
IDENTITY = word_set(
    "student mom mother dad father parent veteran vegan vegetarian introvert extrovert christian catholic "
    "muslim jewish buddhist atheist transgender trans gay lesbian bisexual queer nonbinary non-binary married "
    "single divorced engaged widowed pregnant retired unemployed left-handed diabetic autistic adopted "
    "volunteer activist gamer woman man girl guy homeowner immigrant"
)
EVENTS = word_set(
    "group workshop conference convention concert festival party meeting meetup event events class classes "
    "seminar show game match tournament wedding parade fair rally protest ceremony gala fundraiser session "
    "retreat camp competition contest race marathon exhibition exhibit expo screening premiere reunion "
    "celebration service mass church forum summit hackathon lecture talk course webinar club gig recital play "
    "opera ballet auction drive"
)
OWNABLE = word_set(
    "store shop business company studio restaurant bakery cafe car truck bike bicycle motorcycle boat house "
    "apartment flat condo farm garden guitar piano violin camera laptop collection library blog channel "
    "podcast website brand tattoo"
)
# Verbs that report a state of mind or speech, not a life event: never a ``did`` on their own.
NOT_EVENTS = word_set(
    "be am is are was were been have has had having do does did feel felt think thought know knew say said "
    "tell told ask asked want wanted wish wished hope hoped love loved like liked mean meant realize realized "
    "realise realised guess guessed wonder wondered seem seemed look looked sound sounded remember remembered "
    "forget forgot miss missed need needed appreciate appreciated thank thanked agree agreed believe believed "
    "bet let hear heard notice noticed understand understood care cared enjoy enjoyed hate hated used "
    "get got gotten can could will would should might may must gonna wanna imagine imagined figure figured "
    "expect expected mind minded recommend recommended suppose supposed reckon reckoned admit admitted "
    "excited stoked thrilled pumped psyched interested tired bored scared worried pleased amazed surprised "
    "blessed inspired motivated overwhelmed stressed relieved impressed touched honored honoured obsessed "
    "committed determined dedicated exhausted confused annoyed frustrated disappointed delighted satisfied "
    "based located called named supposed thankful glad"
)
AUX = {
    "'m": "be", "am": "be", "'re": "be", "are": "be", "was": "be", "were": "be", "been": "been", "being": "be",
    "'ve": "have", "have": "have", "has": "have", "had": "have", "'d": "modal", "would": "modal",
    "could": "modal", "should": "modal", "might": "modal", "may": "modal", "must": "modal", "ca": "can",
    "can": "can", "wo": "will", "will": "will", "'ll": "will", "shall": "will", "do": "do", "does": "do",
    "did": "did", "not": "neg", "n't": "neg", "never": "neg", "no": "neg",
}  # fmt: skip
# Adverbs skipped between a subject and its verb ("I finally finished", "we all went").
ADVERBS = word_set(
    "also just really finally actually already always still even recently currently now totally definitely "
    "absolutely truly honestly literally usually often sometimes only both all then first officially kinda "
    "basically seriously personally slowly gradually once ever mostly super so too lately def probably "
    "recently newly especially genuinely sorta quite somehow"
)

# lemma[:irregular past[:past participle]]; regular forms are derived.
_VERB_TABLE = (
    "adopt attend bake become:became:become begin:began:begun build:built buy:bought celebrate choose:chose:chosen "
    "come:came:come compete cook create dance decide do:did:done donate draw:drew:drawn drink:drank:drunk "
    "drive:drove:driven eat:ate:eaten fall:fell:fallen fly:flew:flown find:found finish get:got:gotten "
    "give:gave:given go:went:gone graduate grow:grew:grown hike hold:held join keep:kept learn leave:left "
    "live lose:lost make:made marry meet:met move open paint participate perform pick plan play "
    "purchase quit:quit read:read ride:rode:ridden run:ran:run see:saw:seen sell:sold send:sent sign sing:sang:sung "
    "start study swim:swam:swum take:took:taken teach:taught travel try visit volunteer win:won work "
    "write:wrote:written check see explore spend:spent continue open share help save focus improve show launch "
    "expand submit apply practice practise watch spread support organize organise host throw:threw:thrown "
    "draw camp set:set chill relax hang:hung catch:caught bring:brought put:put learn teach reach pursue "
    "become get take find grow raise collect fix redo renovate decorate think:thought consider hope want love like "
    "enjoy adore prefer hate dislike detest relocate intend aim look wait use turn major feel:felt rehearse "
    "compete email celebrate talk encourage paint remind feel make keep give"
)
_DOUBLED = word_set("plan run swim get begin win shop stop jog chat sit put set drop")
_FORMS: dict[str, tuple[str, str]] = {}


def _regular(lemma: str) -> tuple[str, str, str]:
    """The regular third-person, past and -ing forms of ``lemma``."""
    if lemma in _DOUBLED:
        stem = lemma + lemma[-1]
        return lemma + "s", stem + "ed", stem + "ing"
    if lemma.endswith("e"):
        return lemma + "s", lemma + "d", lemma[:-1] + "ing"
    if lemma.endswith("y") and lemma[-2] not in "aeiou":
        return lemma[:-1] + "ies", lemma[:-1] + "ied", lemma + "ing"
    return lemma + ("es" if lemma.endswith(("s", "sh", "ch", "o")) else "s"), lemma + "ed", lemma + "ing"


def _build_forms() -> None:
    for entry in _VERB_TABLE.split():
        lemma, *irregular = entry.split(":")
        third, past, ing = _regular(lemma)
        past = irregular[0] if irregular else past
        for form, tense in ((lemma, "base"), (third, "base"), (ing, "ing"), (past, "past")):
            _FORMS.setdefault(form, (lemma, tense))
        if len(irregular) > 1:
            _FORMS.setdefault(irregular[1], (lemma, "past"))


_build_forms()
_NOT_PAST = word_set("need bed red seed shed feed speed weed bleed breed proceed exceed indeed led fed wed")
_NOT_GERUND = word_set(
    "thing things something nothing anything everything morning evening ring king wedding building during "
    "sibling siblings string spring ceiling bring sing swing wing sting earring feeling feelings meaning clothing"
)
_PAST = re.compile(r"[a-z]{2,}(?:ed|ied)")


def lemma(word: str) -> str:
    """The base form of a known verb form, else the word itself."""
    return _FORMS.get(word, (word, ""))[0]


def is_base(word: str) -> bool:
    """A known verb in its base form ("check" in "continue my edu and check out options")."""
    known = _FORMS.get(word)
    return known is not None and known[1] == "base"


def is_past(word: str) -> bool:
    """A past-tense verb form: a known irregular or regular past, or a word ending in -ed."""
    known = _FORMS.get(word)
    if known is not None:
        return known[1] == "past"
    return _PAST.fullmatch(word) is not None and word not in _NOT_PAST


def is_gerund(word: str) -> bool:
    """An -ing verb form ("volunteering"), not a noun that ends in -ing ("morning")."""
    known = _FORMS.get(word)
    if known is not None:
        return known[1] == "ing"
    return len(word) > 4 and word.endswith("ing") and word not in _NOT_GERUND
