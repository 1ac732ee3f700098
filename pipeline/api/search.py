"""GET /api/v1/search/?q=: accounts, contacts and opportunities matching a name or its pinyin, best first, only what
the user may see (pipeline/selectors/search.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import LocalizedViewMixin
from pipeline.selectors.search import SEARCH_LIMIT, SEARCH_QUERY_MAX_LENGTH, SEARCH_TYPES, search


class SearchQuery(serializers.Serializer):
    q = serializers.CharField(
        max_length=SEARCH_QUERY_MAX_LENGTH,
        help_text=_("Part of a name in Chinese characters, or its pinyin in full or by initials (nbby, boyuan)."),
    )

    def validate_q(self, value: str) -> str:
        value = value.replace("\x00", "").strip()  # PostgreSQL refuses NUL characters
        if not value:
            raise serializers.ValidationError(_("This field may not be blank."), code="blank")
        return value


class SearchResultSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(SEARCH_TYPES))
    id = serializers.IntegerField()
    title = serializers.CharField(help_text=_("The name of the account, contact or opportunity."))
    subtitle = serializers.CharField(help_text=_("Where it belongs: region, account, stage."))
    url = serializers.CharField(help_text=_("The page that shows it."))


class SearchResponseSerializer(serializers.Serializer):
    results = SearchResultSerializer(many=True, help_text=_("At most 20, best first."))


class SearchView(LocalizedViewMixin, APIView):
    """Search by name: exact names first, then names (or pinyin) starting with the query, then those containing it."""

    @extend_schema(
        operation_id="search",
        tags=["search"],
        parameters=[SearchQuery],
        responses={200: SearchResponseSerializer},
        examples=[
            OpenApiExample(
                "Found by pinyin initials (q=nbby)",
                value={
                    "results": [
                        {
                            "type": "account",
                            "id": 42,
                            "title": "宁波博远连锁超市有限公司",
                            "subtitle": "宁波 · 鄞州区天童南路 588 号",
                            "url": "/accounts/42/",
                        }
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        query = SearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        results = search(viewer=request.user, query=query.validated_data["q"], limit=SEARCH_LIMIT)
        return Response(SearchResponseSerializer({"results": results}).data)
