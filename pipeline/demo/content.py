"""The demo site's articles: fictional stories written for newsflow (names, events and quotes invented).

Texts are templates: `{day-1}` becomes the weekday name one day before the article's publication,
`{day0}` the weekday of publication, so relative dates ("on Tuesday") stay true for any reference time.
Offsets place each article before the site's reference time (deterministic, 1 hour to 3 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

OUTLET = "The Levant Ledger"
PARTNER_OUTLET = "The Euphrates Courier"
AGGREGATOR_OUTLET = "NewsHub Digest"

NEWSLETTER_PROMPT = (
    "Sign up for our Morning Brief newsletter: the day's most important stories from Syria, Iraq "
    "and the wider region, in your inbox at 7 a.m."
)
COOKIE_NOTICE = (
    "We use cookies to improve your experience and to measure audiences. By continuing to browse "
    "you accept our cookie policy."
)
SEE_MORE_LINE = "See more of the story"
AGGREGATOR_BOILERPLATE = ("Try our AI features", "Comments", "Related Articles")

# Reader comments; each page shows two or three of them (chosen by the article's position).
COMMENTS: tuple[tuple[str, str], ...] = (
    ("Samir K.", "Thanks for the clear reporting, it is hard to find anything this detailed elsewhere."),
    ("Helen W.", "Would be good to see a follow-up on this in a few months to know what happened next."),
    ("Yusuf_83", "Any chance of a map next time? I found it hard to follow all the locations."),
    ("Nadia R.", "I disagree with some of the framing, but the facts are laid out fairly."),
    ("Grandpa Joe", "Why is this not on the front page? Subscribed because of pieces like this one."),
    ("Rania", "My cousin lives not far from there and says everyone is simply exhausted."),
    ("M. Okafor", "Too short for my taste, I wanted more detail on where the numbers come from."),
    ("ledger_reader", "Refreshing to read something without the usual spin. Keep it up, Ledger team."),
    ("Dilan", "The photo says more than the whole article. Who took it?"),
    ("Tariq B.", "Shared this with my study group, we had a long discussion about it last night."),
    ("Anne-Marie", "Please fix the comment section on mobile, it keeps jumping to the top."),
    ("Hussein", "Same story every year and nothing changes for ordinary people."),
)


@dataclass(frozen=True)
class Story:
    """One page's content. `kind`: news | copy | aggregator | offtopic | empty | error."""

    slug: str
    kind: str
    section: str
    title: str
    author: str | None
    age: timedelta  # how long before the reference time it was published
    topics: tuple[str, ...]
    paragraphs: tuple[str, ...]
    caption: str
    credit: str
    feeds: str = "both"  # rss | atom | both
    rich_meta: bool = True  # False: no meta/JSON-LD dates or authors, only visible byline and date
    utc_offset_hours: int = 0  # time zone of the published time written in the page's metadata
    original_slug: str | None = None
    extras: tuple[tuple[str, str], ...] = ()  # aggregator: unrelated short items after the main story
    text_age: timedelta | None = None  # `{day..}` tokens count from this age (a copy: its original's)


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


STORIES: tuple[Story, ...] = (
    Story(
        slug="kirkuk-bus-station-suicide-bombing",
        kind="news",
        section="middle-east",
        title="Suicide bomber kills 14 at Kirkuk bus station",
        author="Mariam Haddad",
        age=h(5),
        topics=("attacks",),
        feeds="rss",
        utc_offset_hours=3,
        caption="Police officers inspect the damaged minibus terminal on Baghdad Road in Kirkuk.",
        credit="Photo: Ali Dawood for The Levant Ledger",
        paragraphs=(
            "A suicide bomber detonated an explosive vest at a crowded bus station in central Kirkuk on "
            "{day-1} evening, killing 14 people and wounding 30 others, according to the city's health "
            "directorate.",
            "The attacker walked into the minibus terminal on Baghdad Road shortly after 6 p.m., when "
            "hundreds of day labourers were waiting for rides home to Hawija and Daquq, police Brigadier "
            "Ahmed Jabbar told reporters. Three of the dead were police officers who had tried to stop "
            "the man at a checkpoint near the entrance.",
            "The Islamic State claimed responsibility on {day0} through its Amaq news agency, naming the "
            "bomber as Abu Khattab al-Iraqi and saying he had targeted a gathering of apostates. The "
            "claim could not be independently verified.",
            "It was the deadliest bombing in Kirkuk in more than two years. Security officials said the "
            "group's cells, which shelter in the Hamrin mountains and the Wadi al-Shay valley south of the "
            "city, had been planning a large attack for weeks, and that warnings had been circulated to "
            "checkpoints last month.",
            "The provincial governor declared three days of mourning and ordered the terminal closed. "
            "Hospitals appealed for blood donations, and seven of the wounded were transferred to Erbil "
            "in critical condition.",
            "Police said two men suspected of driving the bomber into the city were arrested at a "
            "checkpoint in Taza on {day0} morning. Their car, a white Kia with Salahuddin plates, was "
            "seized for forensic examination.",
        ),
    ),
    Story(
        slug="anbar-convoy-roadside-bomb",
        kind="news",
        section="middle-east",
        title="Roadside bomb hits Iraqi army convoy in Anbar, killing three soldiers",
        author="Karim Nassar",
        age=h(9),
        topics=("attacks",),
        rich_meta=False,
        caption="An Iraqi army Humvee on the highway between Rutba and Akashat.",
        credit="Photo: Levant Ledger archive",
        paragraphs=(
            "Three Iraqi soldiers were killed and five wounded when a roadside bomb struck their convoy "
            "in western Anbar province on {day-1}, the Security Media Cell said.",
            "The improvised explosive device hit a Humvee at the rear of a supply convoy travelling "
            "between Rutba and the Akashat phosphate mine, about 40 kilometres from the Syrian border. "
            "A lieutenant was among the dead.",
            "No group immediately claimed the attack, but a military spokesman blamed Islamic State "
            "remnants hiding in the desert valleys of Wadi Horan, which runs from the Saudi border "
            "towards the Euphrates.",
            "Troops from the army's 7th Division later swept the area and found a second device buried "
            "300 metres further along the road, which engineers defused. Two men from a nearby village "
            "were detained for questioning.",
            "Attacks in Anbar have fallen sharply since the group lost its last Iraqi strongholds in "
            "2017, but the vast desert between Rutba, Qaim and the Jordanian and Syrian borders remains "
            "difficult to patrol. Smugglers and militants use the valleys to move weapons and people.",
            "Last month, four members of the Popular Mobilization Forces were killed in a similar ambush "
            "near Nukhayb, in the south of the province.",
        ),
    ),
    Story(
        slug="shuhail-council-head-assassinated",
        kind="news",
        section="middle-east",
        title="Gunmen kill local council head in Deir ez-Zor as sleeper cells step up assassinations",
        author="Laila Aziz",
        age=h(20),
        topics=("attacks",),
        caption="The main street of Shuhail, on the eastern bank of the Euphrates.",
        credit="Photo: Delil Hassan for The Levant Ledger",
        paragraphs=(
            "Gunmen on a motorcycle shot dead the head of a local civil council in eastern Deir ez-Zor "
            "on {day-1} night, in what Kurdish-led authorities called the latest assassination by an "
            "Islamic State sleeper cell.",
            "Khalaf al-Hamad, 52, was leaving a mosque in the town of Shuhail after evening prayers when "
            "two men opened fire, hitting him in the head and chest, according to a relative and the "
            "local council. He died on the way to hospital in al-Busayrah. A passer-by was wounded.",
            "Al-Hamad had chaired the Shuhail civil council for three years and was known for mediating "
            "disputes between local tribes and the Syrian Democratic Forces (SDF), which control the area "
            "east of the Euphrates river.",
            "The Islamic State claimed the killing on its Telegram channels on {day0}, describing "
            "al-Hamad as an agent of the PKK. The group routinely claims attacks on SDF members, tribal "
            "elders and local officials whom it accuses of collaborating.",
            "According to a local monitoring group, at least 11 council members, mukhtars and tribal "
            "figures have been assassinated in the province since the start of the year, most of them "
            "shot at close range by attackers who escaped on motorcycles.",
            "The SDF said its internal security forces, the Asayish, had set up checkpoints around "
            "Shuhail and Thiban and arrested three suspects. Residents say many officials now sleep away "
            "from home and travel with armed guards.",
        ),
    ),
    Story(
        slug="hamrin-air-strikes-kill-nine",
        kind="news",
        section="middle-east",
        title="Iraqi air strikes kill nine Islamic State fighters in Hamrin mountains",
        author="Karim Nassar",
        age=h(30),
        topics=("military-ops",),
        caption="Smoke rises over the Hamrin range after an air strike, in a handout image.",
        credit="Photo: Iraqi Joint Operations Command handout",
        paragraphs=(
            "Iraqi F-16 jets struck Islamic State hideouts in the Hamrin mountains on {day-2}, killing "
            "nine militants, including a senior local commander, the Joint Operations Command said on "
            "{day-1}.",
            "The strikes hit three caves and a tunnel near the village of Tal al-Dhahab, on the boundary "
            "between Kirkuk and Salahuddin provinces, after intelligence showed fighters gathering there, "
            "the command said. Counter-Terrorism Service troops reached the site the next morning and "
            "recovered nine bodies, rifles and two explosive belts.",
            "Among the dead was Jassim Mahmoud, known as Abu Hajer, whom Iraqi officials described as the "
            "group's military chief for the Kirkuk sector. Officials accused him of organising attacks "
            "on army outposts and power lines around Hawija.",
            "The US-led coalition said it had provided surveillance support but that the strikes were "
            "carried out by the Iraqi Air Force alone.",
            "The rugged Hamrin range, which stretches from Diyala to the outskirts of Tikrit, has long "
            "served as a refuge for the few hundred Islamic State fighters believed to remain in Iraq.",
            "The operation followed a raid last week in which Iraqi forces killed four suspected "
            "militants and destroyed 12 hideouts in the Wadi al-Shay valley south of Kirkuk.",
        ),
    ),
    Story(
        slug="sdf-retakes-jurdhi-after-incursion",
        kind="news",
        section="middle-east",
        title="SDF retakes Deir ez-Zor village after overnight Islamic State incursion",
        author="Laila Aziz",
        age=h(42),
        topics=("military-ops", "attacks"),
        caption="SDF fighters at a checkpoint on the road into al-Jurdhi.",
        credit="Photo: Delil Hassan for The Levant Ledger",
        paragraphs=(
            "The Syrian Democratic Forces said on {day0} they had retaken the village of al-Jurdhi in "
            "eastern Deir ez-Zor, hours after Islamic State fighters stormed two of their positions "
            "there overnight.",
            "About 30 militants attacked the outposts from the desert east of the village at around 2 "
            "a.m. on {day0}, using machine guns and rocket-propelled grenades, the SDF said in a "
            "statement. Six SDF fighters were killed and nine wounded before reinforcements arrived from "
            "Hajin.",
            "The SDF launched a counter-offensive at dawn, backed by US-led coalition helicopters, and "
            "said it had regained full control of al-Jurdhi by mid-morning. It said 11 attackers were "
            "killed and four captured, among them a Tunisian national.",
            "Residents said dozens of families had fled towards the river during the fighting. A "
            "teacher reached by phone said militants had briefly raised the group's black flag over the "
            "village school before withdrawing.",
            "It was one of the largest ground assaults by the group in Syria this year. Analysts say the "
            "Islamic State has used the vast Syrian desert, the Badia, to regroup since losing its last "
            "territory at Baghouz in 2019.",
            "The coalition said in a separate statement that its aircraft had struck a vehicle carrying "
            "fleeing fighters 15 kilometres south-east of the village.",
        ),
    ),
    Story(
        slug="germany-austria-repatriate-women-children-al-hol",
        kind="news",
        section="middle-east",
        title="Germany and Austria repatriate 38 women and children from Syrian camps",
        author="Sara Lindqvist",
        age=h(50),
        topics=("foreign-fighters", "detention"),
        caption="Women and children in the foreign annex of al-Hol camp, Hasakah province.",
        credit="Photo: Delil Hassan for The Levant Ledger",
        paragraphs=(
            "Germany and Austria repatriated 11 women and 27 children from camps in north-east Syria on "
            "{day-1}, in one of the largest European repatriation operations this year, the German "
            "foreign ministry said.",
            "The group was handed over by the Kurdish-led Autonomous Administration at the Semalka "
            "border crossing and flown from Erbil to Frankfurt on a chartered plane, with logistical help "
            "from the American military. Most of the women had travelled to Syria between 2014 and 2016 "
            "to join the Islamic State, officials said.",
            "Four of the women were detained by Kurdish security forces in Hasakah on {day-2}, before the "
            "handover, on suspicion of recruiting for the Islamic State inside the camp, and will face "
            "charges in Germany, federal prosecutors said. The children, the youngest of whom is two, "
            "will be placed with relatives or with youth services.",
            "The women had been held in al-Hol, a sprawling camp near Hasakah that houses about 34,000 "
            "people, and in the smaller Roj camp near the Iraqi border, where conditions are better but "
            "security is tighter.",
            "Kurdish officials have repeatedly urged foreign governments to take back their citizens, "
            "saying they cannot hold thousands of Islamic State suspects and their families "
            "indefinitely. Every country must take responsibility for its nationals, said Ciwan Mustafa, "
            "a co-chair of the administration's foreign relations department.",
            "Aid groups welcomed the operation but said hundreds of European children remained in the "
            "camps, many of them born there. An American official said Washington would keep pressing "
            "allies to bring their nationals home.",
            "Aid workers say al-Hol has become a breeding ground for extremism, with Islamic State "
            "loyalists enforcing the group's rules in parts of the camp's foreign annex, where about "
            "6,000 women and children from some 50 countries are held.",
            "Germany has now brought back more than 100 nationals from Syria since 2019. Austria's "
            "foreign ministry said further repatriations depended on security assessments and on the "
            "consent of the mothers, some of whom have refused to leave.",
        ),
    ),
    Story(
        slug="al-hol-smuggling-network-dismantled",
        kind="news",
        section="middle-east",
        title="Smugglers charged $15,000 to spirit women out of al-Hol, Kurdish security says",
        author="Laila Aziz",
        age=h(60),
        topics=("foreign-fighters", "detention"),
        feeds="atom",
        caption="A water tanker at the gate of al-Hol camp.",
        credit="Photo: Levant Ledger archive",
        paragraphs=(
            "Kurdish security forces said on {day-1} they had dismantled a network that smuggled foreign "
            "women and their children out of al-Hol camp for fees of up to $15,000 per person, and "
            "detained three of its members.",
            "The Asayish internal security service said the smugglers hid women inside empty water "
            "tankers and sewage trucks that enter the camp every day, then drove them to safe houses in "
            "Shaddadi before handing them to other smugglers near the Turkish border.",
            "Among those caught trying to leave last month were two Russian women and a Tajik woman with "
            "five children between them, the service said. A camp guard who accepted bribes to wave the "
            "trucks through was also arrested.",
            "Payments were collected by relatives abroad and sent through money transfer offices in "
            "Idlib and southern Turkey, according to the Asayish, which said part of the money came from "
            "online fundraising campaigns run by Islamic State supporters.",
            "Camp officials estimate that several hundred residents have escaped al-Hol since 2019, some "
            "of them women who later rejoined the group or married fighters in Idlib. Others paid to be "
            "smuggled to Turkey in the hope of reaching their home countries.",
            "The three detained men, two Syrians and an Iraqi, will be tried by the administration's "
            "counter-terrorism court in Qamishli, officials said.",
        ),
    ),
    Story(
        slug="hasakah-prison-attack-plot-foiled",
        kind="news",
        section="middle-east",
        title="Kurdish forces say they foiled Islamic State plot to storm Hasakah prison",
        author="Mariam Haddad",
        age=h(14),
        topics=("detention", "attacks"),
        caption="The outer wall of the prison in Hasakah's Ghwayran district.",
        credit="Photo: Delil Hassan for The Levant Ledger",
        paragraphs=(
            "Kurdish-led forces said on {day0} they had foiled an Islamic State plan to attack the "
            "prison in Hasakah's Ghwayran district, where thousands of suspected members of the group "
            "are held, seizing a car packed with explosives a few hundred metres from its walls.",
            "The Syrian Democratic Forces said six men were arrested in raids on three houses in Ghwayran "
            "and the nearby al-Zuhur neighbourhood on {day-1} night. Weapons, suicide vests and a "
            "hand-drawn map of the prison's gates were found, the SDF said.",
            "According to the SDF, the cell planned to blow up the main gate with the car bomb while "
            "inmates started riots inside, repeating the tactics of the January 2022 assault on the same "
            "prison, when hundreds of people were killed during ten days of fighting.",
            "The prison holds about 4,000 detainees, including foreign fighters from dozens of countries, "
            "and boys who were taken from the camps when they turned 12 or 13.",
            "An SDF commander said the plot had been directed by Islamic State leaders in the Syrian "
            "desert and funded through transfers from Turkey. Security around the prison and the road "
            "to al-Hol camp had been reinforced, he added.",
        ),
    ),
    Story(
        slug="baghdad-court-jails-eleven-transferred-suspects",
        kind="news",
        section="middle-east",
        title="Baghdad court jails 11 Islamic State suspects handed over from Syria",
        author="Karim Nassar",
        age=h(66),
        topics=("detention",),
        rich_meta=False,
        caption="The entrance of the Karkh criminal court complex in Baghdad.",
        credit="Photo: Levant Ledger archive",
        paragraphs=(
            "A counter-terrorism court in Baghdad sentenced 11 men to life in prison on {day-1} for "
            "membership of the Islamic State, weeks after they were handed over to Iraq by Kurdish-led "
            "authorities in north-east Syria.",
            "The defendants, nine Iraqis, a Syrian and a Moroccan, had been held in prisons in Hasakah "
            "since 2019, when they surrendered during the battle for Baghouz, the group's last enclave. "
            "They were among 150 detainees transferred across the border at Rabia last month.",
            "Judges at the Karkh court heard the cases in a single day. Several defendants told the "
            "court they had worked as cooks, drivers or guards and had never fought; prosecutors relied "
            "mainly on confessions and on lists of names found in Islamic State offices in Mosul.",
            "A defence lawyer said each hearing lasted less than 20 minutes and that two of his clients "
            "said they had been pressured to confess. Rights groups have long criticised Iraq's "
            "terrorism trials for relying on confessions and for the frequent use of the death penalty.",
            "Iraqi officials say the transfers are necessary to relieve pressure on overcrowded Syrian "
            "prisons and to prevent escapes. Baghdad says it has received more than 3,000 Iraqi "
            "detainees from Syria since 2019.",
        ),
    ),
    Story(
        slug="al-naba-editorial-break-the-walls",
        kind="news",
        section="analysis",
        title="Islamic State weekly urges followers to 'break the walls' of prisons and camps",
        author="Tom Whitfield",
        age=h(26),
        topics=("strategy-propaganda",),
        caption="A page of the group's weekly newsletter, as circulated on Telegram.",
        credit="Image: screenshot via Telegram",
        paragraphs=(
            "The Islamic State has called on its followers to free members of the group held in prisons "
            "and camps in Syria and Iraq, in an editorial published in its weekly al-Naba newsletter on "
            "{day-2} evening.",
            "The two-page editorial, in issue 497 of the newsletter, described the detainees as a debt "
            "on the neck of every Muslim and urged supporters to break the walls through attacks, "
            "bribery and escapes. It singled out al-Hol and the prisons of Hasakah.",
            "Analysts who track the group's media said the editorial revived a theme the group used "
            "before its 2022 assault on the Ghwayran prison. It also praised the recent killing of a "
            "council official in Deir ez-Zor as an example for sleeper cells.",
            "The same issue listed nine attacks claimed in Iraq and Syria during the previous week, "
            "most of them shootings and small bombs, and an infographic claiming 31 enemies killed or "
            "wounded. Such tallies are routinely inflated, researchers say.",
            "Al-Naba has been published every Thursday since 2015 and is distributed as a PDF on "
            "Telegram and other messaging apps. Its editorials are read closely by counter-terrorism "
            "officials as a guide to the group's priorities.",
            "The call comes as the group is struggling to recruit in its former heartland, analysts say, "
            "and increasingly relies on online propaganda aimed at teenagers abroad.",
        ),
    ),
    Story(
        slug="treasury-sanctions-hawala-financiers",
        kind="news",
        section="business",
        title="US sanctions Islamic State financiers accused of moving cash to Syrian camps",
        author="Tom Whitfield",
        age=h(55),
        topics=("strategy-propaganda", "politics"),
        feeds="atom",
        caption="Money changers at a market in Gaziantep, southern Turkey.",
        credit="Photo: Levant Ledger archive",
        paragraphs=(
            "The US Treasury on {day-1} imposed sanctions on four men and two money exchange companies "
            "it accused of moving funds for the Islamic State to fighters and their families in Syria.",
            "According to the Treasury, the network used hawala money transfer offices in Gaziantep, "
            "Idlib and Erbil to move more than $2 million over three years. Part of the money paid "
            "smugglers to take women out of al-Hol camp, and part funded fighters in the Syrian desert.",
            "Those designated include Omar Fadhil al-Zubaidi, an Iraqi accused of running the network "
            "from Turkey, and Ahmad Kurdi, a Syrian exchange house owner in Sarmada. Their US assets are "
            "frozen and Americans are barred from dealing with them.",
            "The Treasury said the group still held reserves of between $10 million and $25 million and "
            "raised money through extortion of businesses in eastern Syria, kidnapping for ransom and "
            "online donations, increasingly in cryptocurrency.",
            "Officials said the sanctions were coordinated with Iraq's central bank, which ordered "
            "banks to freeze accounts linked to the two companies.",
        ),
    ),
    Story(
        slug="coalition-hands-over-ain-al-asad",
        kind="news",
        section="middle-east",
        title="US-led coalition to hand over Ain al-Asad as troop drawdown in Iraq speeds up",
        author="Mariam Haddad",
        age=h(70),
        topics=("politics",),
        caption="A transport aircraft on the runway at Ain al-Asad air base in Anbar.",
        credit="Photo: Levant Ledger archive",
        paragraphs=(
            "The US-led coalition against the Islamic State will hand over Ain al-Asad air base in "
            "Anbar to Iraqi forces by the end of next month, Iraqi and American officials said on "
            "{day-1}, as Washington speeds up the drawdown of its troops.",
            "Under an agreement reached last year, the coalition's military mission in federal Iraq is "
            "due to end in September, with remaining advisers moving to Erbil in the Kurdistan Region. "
            "About 2,500 US troops are currently deployed in Iraq and about 900 in Syria.",
            "Prime Minister's office spokesman Basim al-Awadi said Iraqi forces were fully able to "
            "secure the country and that the relationship with Washington would shift to bilateral "
            "security cooperation and training.",
            "Some Sunni and Kurdish politicians warned that a rapid withdrawal could leave gaps that "
            "Islamic State cells would exploit, particularly in the desert of Anbar and in the disputed "
            "areas around Kirkuk. Armed factions close to Iran welcomed the move and said all foreign "
            "forces must leave.",
            "Coalition officials said air support and intelligence sharing with Iraq and with the Syrian "
            "Democratic Forces in Syria would continue from bases outside federal Iraq.",
        ),
    ),
    Story(
        slug="hawija-raid-captures-kirkuk-wali",
        kind="aggregator",
        section="digest",
        title="Iraqi forces capture Islamic State 'governor' of Kirkuk in Hawija raid",
        author="Levant Wire staff",
        age=h(12),
        topics=("military-ops",),
        caption="Counter-Terrorism Service vehicles near Hawija.",
        credit="Photo: Levant Wire",
        paragraphs=(
            "Iraqi Counter-Terrorism Service troops captured the Islamic State's top official in Kirkuk "
            "province in a night raid near Hawija on {day-1}, the service said.",
            "The man, identified as Abdulrahman Salih and known as Abu Bakr al-Hawiji, was arrested with "
            "two aides in a farmhouse outside the village of al-Riyadh, the service said. Three "
            "Kalashnikov rifles, a suicide belt and mobile phones were seized.",
            "Officials described Salih as the group's wali, or governor, for Kirkuk, responsible for "
            "planning attacks and collecting taxes from shepherds and truck drivers in the area. He had "
            "been wanted since 2018.",
            "The raid was carried out with intelligence support from the US-led coalition, according to "
            "a statement, which did not say whether coalition forces took part on the ground.",
            "Hawija, a mainly Sunni Arab town 55 kilometres south-west of Kirkuk, was one of the last "
            "places in northern Iraq retaken from the group, in October 2017. Officials say small cells "
            "still move between the surrounding villages and the Hamrin mountains, and that Salih's "
            "arrest should disrupt their supply of money and weapons.",
        ),
        extras=(
            (
                "Dust storm to sweep central Iraq, forecasters warn",
                "Forecasters expect a heavy dust storm to reach Baghdad and Karbala by the weekend, with "
                "visibility falling below 500 metres. Flights may be delayed and schools could close.",
            ),
            (
                "Duhok beat Naft Maysan 3-0 to stay top of the table",
                "Two goals before half-time and a late penalty gave Duhok a comfortable home win and a "
                "four-point lead at the top of the league with six rounds left to play.",
            ),
            (
                "Nexa unveils a foldable phone with a week-long battery",
                "The Nexa Fold 3 goes on sale next month in the Gulf and Iraq. The company says its new "
                "battery lasts seven days on a single charge with ordinary use.",
            ),
        ),
    ),
    Story(
        slug="erbil-late-winner-al-shorta",
        kind="offtopic",
        section="sport",
        title="Erbil snatch late winner against Al-Shorta to go top of the Stars League",
        author="Dara Karim",
        age=h(8),
        topics=(),
        caption="Erbil's players celebrate the winning goal at Franso Hariri Stadium.",
        credit="Photo: Dara Karim for The Levant Ledger",
        paragraphs=(
            "A header from substitute Rawand Aziz in the 89th minute gave Erbil a 2-1 win over champions "
            "Al-Shorta on {day-1} night and sent the Kurdish club to the top of the Iraq Stars League for "
            "the first time in eight years.",
            "Al-Shorta took the lead after 23 minutes through a curling free kick by their Syrian "
            "midfielder, but Erbil equalised from the penalty spot early in the second half after a "
            "handball in the area.",
            "More than 18,000 fans packed the Franso Hariri Stadium, the largest crowd of the season in "
            "the city. Erbil coach Nizar Mahrous said the win belonged to the supporters, who had waited "
            "a long time for a title challenge.",
            "Erbil now lead the table by one point with 11 matches remaining. Al-Shorta, who have a game "
            "in hand, host Al-Zawraa in the Baghdad derby next weekend.",
            "Aziz, 21, had come on only six minutes earlier. It was his third goal of the season and the "
            "first of his career against Al-Shorta, who had not lost an away game since November.",
        ),
    ),
    Story(
        slug="basra-oil-exports-record",
        kind="offtopic",
        section="business",
        title="Iraq's oil exports climb to 3.4 million barrels a day as Basra terminals expand",
        author="Omar Farouk",
        age=h(36),
        topics=(),
        caption="Tankers moored at the Basra oil terminal in the Gulf.",
        credit="Photo: Levant Ledger archive",
        paragraphs=(
            "Iraq exported an average of 3.4 million barrels of crude a day last month, the oil ministry "
            "said on {day-1}, the highest level in two years, helped by new loading capacity at its "
            "southern terminals near Basra.",
            "A new single point mooring buoy that entered service in the spring allows two more tankers "
            "to load at the same time, officials said. Exports from the southern fields of Rumaila, West "
            "Qurna and Majnoon accounted for almost all of the volume.",
            "Revenue for the month reached about $7.6 billion, the ministry said. Oil sales fund more "
            "than 90 percent of Iraq's state budget, including the salaries of millions of public "
            "employees.",
            "Economists warned that the country remained highly exposed to a fall in prices and urged "
            "the government to invest more in gas capture, electricity and agriculture.",
            "Talks with Baghdad and Erbil on resuming exports through the pipeline to the Turkish port "
            "of Ceyhan continued this week, the ministry said, without giving a date for a restart.",
        ),
    ),
    Story(
        slug="mutanabbi-street-night-festival",
        kind="offtopic",
        section="culture",
        title="Baghdad's Mutanabbi Street stays open past midnight for its first book night",
        author="Noor Jalil",
        age=h(46),
        topics=(),
        rich_meta=False,
        feeds="atom",
        caption="Readers browse stalls on Mutanabbi Street after dark.",
        credit="Photo: Noor Jalil for The Levant Ledger",
        paragraphs=(
            "Thousands of people filled Baghdad's Mutanabbi Street on {day-1} night as booksellers kept "
            "their stalls open past midnight for the first time, in a festival organised by the city's "
            "publishers' union.",
            "Families strolled between piles of novels, poetry collections and second-hand textbooks "
            "while musicians played the oud outside the Shabandar cafe, a meeting place for writers for "
            "more than a century.",
            "Organisers said more than 60 publishers from Iraq, Lebanon and Egypt took part, and that "
            "sales of Iraqi novels had doubled compared with an ordinary Friday, the street's busiest "
            "day.",
            "The union plans to hold the book night every month until the end of the year if the city "
            "agrees to keep the street lit and closed to traffic.",
            "For many visitors it was a first chance to see the street's restored Ottoman-era facades "
            "after dark. A poetry reading at the Qishla courtyard ran until almost 2 a.m.",
        ),
    ),
    Story(
        slug="diyala-wheat-harvest-drought",
        kind="offtopic",
        section="business",
        title="Drought cuts wheat harvest by a third, farmers in Diyala say",
        author="Omar Farouk",
        age=h(62),
        topics=(),
        caption="A farmer inspects a dry irrigation canal near Baqubah.",
        credit="Photo: Levant Ledger archive",
        paragraphs=(
            "Farmers in Diyala province say this year's wheat harvest is about a third smaller than last "
            "year's after a second dry winter and cuts to the water released from the Hamrin dam.",
            "Abbas Kadhim, who farms 40 dunams near Baqubah, said he had planted only half his land "
            "because the irrigation canal ran dry in February. The agriculture directorate said it had "
            "bought 210,000 tonnes of wheat from the province so far, against 320,000 last year.",
            "The agriculture ministry has restricted planting to save water and encouraged farmers to "
            "use drip irrigation, but many say they cannot afford the equipment without loans.",
            "Some families have already left their villages for Baqubah and Baghdad in search of work, "
            "local officials said.",
            "The directorate said it would pay farmers within 30 days of delivery, a promise growers say "
            "has often been broken. Last year some waited five months for payment from the state "
            "grain company.",
        ),
    ),
    Story(
        slug="in-pictures-raqqa-riverside",
        kind="empty",
        section="in-pictures",
        title="In pictures: Raqqa's riverside at dusk",
        author=None,
        age=h(18),
        topics=(),
        feeds="atom",
        caption="The old bridge.",
        credit="Photos: Delil Hassan",
        paragraphs=(),
    ),
    Story(
        slug="live-updates-region",
        kind="error",
        section="live",
        title="Live: latest updates from Syria and Iraq",
        author=None,
        age=h(1),
        topics=(),
        feeds="rss",
        caption="",
        credit="",
        paragraphs=(),
    ),
)

GALLERY_CAPTIONS = ("The old bridge.", "Fishing boats.", "Evening tea.", "Children at play.", "Sunset.")


@dataclass(frozen=True)
class Syndication:
    """How the partner outlet republishes one story: kept share, house style, inserted paragraphs."""

    original_slug: str
    slug: str
    title: str
    delay: timedelta  # published this long after the original
    keep: int  # paragraphs kept from the start of the original
    substitutions: tuple[tuple[str, str], ...]
    inserted: tuple[tuple[int, str], ...]  # (position in the copy, paragraph), applied in order
    caption: str
    credit: str


SYNDICATION = Syndication(
    original_slug="germany-austria-repatriate-women-children-al-hol",
    slug="dozens-flown-home-from-isis-camps",
    title="Dozens of German and Austrian women and children flown home from ISIS camps",
    delay=h(7),
    keep=4,
    substitutions=(("the Islamic State", "ISIS"), ("Islamic State", "ISIS"), ("American", "U.S.")),
    inserted=(
        (
            2,
            "In Qamishli, relatives of camp residents gathered outside the administration's offices on "
            "{day0} to demand news of family members still held in al-Hol, some of whom have not been "
            "heard from in months.",
        ),
        (
            5,
            "The Courier's correspondent, who visited al-Hol in the spring, found water shortages and "
            "overcrowded tents in the foreign annex, where guards rarely enter after dark.",
        ),
    ),
    caption="The Semalka border crossing between Syria and Iraq's Kurdistan Region.",
    credit="Photo: The Euphrates Courier",
)


def syndicated_story(original: Story, synd: Syndication = SYNDICATION) -> Story:
    """The partner's copy: the first paragraphs in house style, local paragraphs added, later ones dropped."""
    kept = [_restyle(p, synd.substitutions) for p in original.paragraphs[: synd.keep]]
    for position, paragraph in synd.inserted:
        kept.insert(position, paragraph)
    return Story(
        slug=synd.slug,
        kind="copy",
        section="partner",
        title=synd.title,
        author=original.author,
        age=original.age - synd.delay,
        topics=original.topics,
        paragraphs=(SEE_MORE_LINE, *kept),
        caption=synd.caption,
        credit=synd.credit,
        feeds="both",
        original_slug=original.slug,
        text_age=original.age,
    )


def _restyle(text: str, substitutions: tuple[tuple[str, str], ...]) -> str:
    for old, new in substitutions:
        text = text.replace(old, new)
    return text


def all_stories() -> tuple[Story, ...]:
    """Every page of the site, the syndicated copy placed right after its original."""
    out: list[Story] = []
    for story in STORIES:
        out.append(story)
        if story.slug == SYNDICATION.original_slug:
            out.append(syndicated_story(story))
    return tuple(out)
