"""First versions of the policy and consent texts, published at first start.

The operator's name and address come from settings; staff publish later versions in the console.
"""

from __future__ import annotations

from okno.platform import database
from okno.platform.consent.documents import Contents, publish
from okno.platform.settings import get_settings

ACTIONS = (
    "сбор, запись, систематизация, накопление, хранение, уточнение (обновление, изменение),"
    " извлечение, использование, блокирование, удаление, уничтожение; автоматизированная"
    " обработка на серверах оператора в Российской Федерации, без передачи третьим лицам."
)
WITHDRAWAL = (
    "согласие можно отозвать в любой момент в разделе «Мои данные» (/me) или письмом оператору"
    " по указанному адресу; после отзыва обработка прекращается, а данные уничтожаются в срок"
    " до 30 дней, если нет иного законного основания."
)
TEXTS = {
    "policy": dict(
        purpose_text="ответы на обращения клиентов в чате; с отдельного согласия — рекламные"
        " сообщения в чате или по электронной почте и публикация отзывов с именем автора.",
        pd_list="имя, номер телефона, адрес электронной почты, город, номер заказа или договора,"
        " тексты сообщений и вложения, технические данные (IP-адрес, сведения о браузере,"
        " идентификатор браузера).",
        actions_text=ACTIONS,
        term_text="до достижения цели или отзыва согласия, но не дольше 3 лет с последнего"
        " обращения; доказательства согласий хранятся, пока это требуется по закону.",
        withdrawal_text="субъект вправе получить сведения об обработке своих данных, потребовать"
        " их уточнения, блокирования или уничтожения, отозвать согласие, обжаловать действия"
        " оператора в Роскомнадзоре или в суде. Всё это доступно в разделе «Мои данные» (/me)."
        " Согласие" + WITHDRAWAL.removeprefix("согласие"),
    ),
    "processing-support": dict(
        purpose_text="ответы на мои обращения в чате и исполнение моих запросов.",
        pd_list="имя, номер телефона, адрес электронной почты, город, номер заказа или договора.",
        actions_text=ACTIONS,
        term_text="3 года с момента дачи согласия или до его отзыва.",
        withdrawal_text=WITHDRAWAL,
    ),
    "advertising-chat": dict(
        purpose_text="получение в чате рекламных и информационных сообщений: акций, скидок,"
        " специальных предложений (ст. 18 Федерального закона «О рекламе»).",
        pd_list="идентификатор моего чата с оператором.",
        actions_text="использование идентификатора чата для отправки сообщений; хранение"
        " сведений о согласии.",
        term_text="3 года или до отзыва; после отзыва отправка прекращается немедленно.",
        withdrawal_text="кнопка «Отписаться» под любой рассылкой или раздел «Мои данные» (/me).",
    ),
    "advertising-email": dict(
        purpose_text="получение рекламных и информационных писем на электронную почту"
        " (ст. 18 Федерального закона «О рекламе»).",
        pd_list="адрес электронной почты, имя.",
        actions_text="использование адреса для отправки писем; хранение сведений о согласии.",
        term_text="3 года или до отзыва; после отзыва отправка прекращается немедленно.",
        withdrawal_text="ссылка «Отписаться» в любом письме или раздел «Мои данные» (/me).",
    ),
    "dissemination-reviews": dict(
        purpose_text="публикация моего отзыва на странице отзывов оператора с теми сведениями"
        " обо мне, которые я выбрал (ст. 10.1 Федерального закона «О персональных данных»).",
        pd_list="имя (или его первая буква) — только если я отметил это при публикации.",
        actions_text="распространение (опубликование) выбранных сведений"
        " неограниченному кругу лиц.",
        term_text="до отзыва согласия; после отзыва имя удаляется со страницы немедленно.",
        withdrawal_text=WITHDRAWAL,
        body="Я вправе запретить передачу (кроме предоставления доступа) и обработку"
        " распространённых данных неограниченным кругом лиц; сведения, не выбранные мной,"
        " не публикуются.",
    ),
}


async def ensure_published() -> list[str]:
    """Publish version 1 of every document that has none yet; returns their slugs."""
    settings = get_settings()
    async with database.acquire() as conn:
        missing = await conn.fetch(
            "SELECT slug FROM consent_document d WHERE NOT EXISTS"
            " (SELECT 1 FROM consent_document_version v WHERE v.document_id = d.id) ORDER BY id"
        )
    for row in missing:
        await publish(
            row["slug"],
            Contents(
                operator_name=settings.operator_name,
                operator_address=settings.operator_address,
                **TEXTS[row["slug"]],
            ),
            None,
        )
    return [row["slug"] for row in missing]
